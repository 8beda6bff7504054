"""``tongbao bench …``: load a real Tongbao from outside and print what it sustains."""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from tongbao.bench import create as create_bench
from tongbao.bench.report import emit
from tongbao.bootstrap import build_container
from tongbao.cli.runtime import console, err, load_settings, master_key
from tongbao.config import Settings
from tongbao.harness.deployment import Deployment, Layout

bench_app = typer.Typer(
    help="Benchmarks against a real Tongbao: its own processes on TONGBAO_DATABASE_URL, or --base-url.",
    no_args_is_help=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object with every figure.")]
BaseUrlOpt = Annotated[
    str | None,
    typer.Option(help="A running Tongbao (e.g. `serve --demo`); credentials from DATA_DIR/demo.json."),
]
DataDirOpt = Annotated[Path | None, typer.Option("--data-dir", help="With --base-url: where demo.json is.")]


def concurrency_list(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise typer.BadParameter("a comma-separated list of client counts, e.g. 8,32") from exc
    if not values or any(v < 1 or v > 512 for v in values):
        raise typer.BadParameter("each client count is 1 to 512")
    return values


ConcurrencyOpt = Annotated[str, typer.Option(help="Concurrent clients, one round each (comma-separated).")]


def progress_printer(quiet: bool) -> Callable[[str], None]:
    def show(message: str) -> None:
        if not quiet:
            err.print(f"[dim]… {message}[/]")

    return show


@contextmanager
def own_deployment(layout: Layout, keep: bool) -> Iterator[Deployment]:
    """Tongbao's processes on TONGBAO_DATABASE_URL, else on a SQLite file made for the run."""
    workdir = Path(tempfile.mkdtemp(prefix="tongbao-bench-"))
    url = Settings().database_url or f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    deployment = Deployment(url, workdir, layout, notify_url="http://127.0.0.1:9/unused")
    try:
        deployment.start()
        yield deployment
    finally:
        deployment.close()
        if keep:
            err.print(f"[dim]logs kept in {workdir}[/]")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def running_target(base_url: str, data_dir: Path | None) -> tuple[Settings, create_bench.Target]:
    settings = load_settings(data_dir)
    demo_file = settings.data_dir / "demo.json"
    if not demo_file.exists():
        err.print(f"[red]{demo_file} not found: --base-url needs the app credentials of demo.json.[/]")
        raise typer.Exit(2)
    demo = json.loads(demo_file.read_text())
    target = create_bench.Target(
        [base_url.rstrip("/")], demo["app_id"], demo["app_secret"], settings.resolved_database_url()
    )
    return settings, target


@bench_app.command("create")
def create(
    *,
    concurrency: ConcurrencyOpt = "8,32",
    duration: Annotated[float, typer.Option(help="Seconds per round.", min=1, max=300)] = 10.0,
    max_payments: Annotated[int, typer.Option(help="At most this many creations per round.", min=1)] = 50_000,
    api_workers: Annotated[int, typer.Option(help="`serve --workers` of the API it starts.", min=1)] = 2,
    ceiling: Annotated[bool, typer.Option(help="Replay the captured SQL as the ceiling.")] = True,
    base_url: BaseUrlOpt = None,
    data_dir: DataDirOpt = None,
    keep: Annotated[bool, typer.Option(help="Keep the started processes' logs.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Signed creations per second (wechat_native; the simulator answers in its own process), p50/p99,
    and the same creation's SQL replayed against the database at the same concurrency."""
    plan = create_bench.Plan(concurrency_list(concurrency), duration, max_payments, ceiling)
    show = progress_printer(as_json)
    context: dict[str, Any] = {}
    if base_url is not None:
        settings, target = running_target(base_url, data_dir)
        key = master_key(settings, demo=False)
        figures = asyncio.run(_with_container(settings, key, target, plan, show))
        context["api"] = base_url
    else:
        layout = Layout(api_workers=api_workers)
        show(f"starting Tongbao ({api_workers} API workers) and the WeChat Pay simulator")
        with own_deployment(layout, keep) as deployment:
            assert deployment.tenant is not None
            target = create_bench.Target(
                deployment.base_urls,
                deployment.tenant.app_id,
                deployment.tenant.app_secret,
                deployment.database_url,
            )
            settings = deployment.settings()
            figures = asyncio.run(_with_container(settings, deployment.master_key(), target, plan, show))
        context["api_workers"] = api_workers
    tables = figures.pop("_tables")
    emit(console, as_json, {**figures, **context}, tables)


async def _with_container(
    settings: Settings, key: Any, target: create_bench.Target, plan: create_bench.Plan, show: Any
) -> dict[str, Any]:
    c = build_container(settings, key)
    try:
        return await create_bench.bench(c, target, plan, show)
    finally:
        await c.aclose()


def register(app: typer.Typer) -> None:
    app.add_typer(bench_app, name="bench")
