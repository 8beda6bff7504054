"""``tongbao bench …``: load a real Tongbao from outside and print what it sustains."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from tongbao.bench import create as create_bench
from tongbao.bench import e2e, ledger, notify
from tongbao.bench.local import database_kind, local_deployment
from tongbao.bench.report import emit
from tongbao.bootstrap import build_container
from tongbao.channels.kinds import Channel
from tongbao.cli.runtime import err, load_settings, master_key
from tongbao.config import Settings
from tongbao.harness.deployment import Layout
from tongbao.harness.processes import NamedCpu
from tongbao.security.master_key import MasterKey

bench_app = typer.Typer(
    help="Benchmarks against a real Tongbao: its own processes on TONGBAO_DATABASE_URL, or --base-url.",
    no_args_is_help=True,
)
console = Console()

JsonOpt = Annotated[
    bool, typer.Option("--json", help="One JSON object with every figure, instead of tables.")
]
DurationOpt = Annotated[
    float, typer.Option("--duration", help="Seconds per round, at most.", min=0.5, max=600)
]
ApiProcessesOpt = Annotated[
    int, typer.Option("--api-processes", help="`tongbao serve` processes (own ports).", min=1, max=16)
]
ApiWorkersOpt = Annotated[
    int | None,
    typer.Option(
        "--api-workers",
        help="`--workers` for each serve process (default 2 on PostgreSQL, 1 on SQLite).",
        min=1,
        max=16,
    ),
]


def _workers(requested: int | None) -> int:
    """Several API processes need PostgreSQL; the embedded SQLite has one writer and one process."""
    if requested is not None:
        return requested
    return 2 if (os.environ.get("TONGBAO_DATABASE_URL") or "").startswith("postgresql") else 1


JobWorkersOpt = Annotated[
    int, typer.Option("--job-workers", help="`tongbao worker` processes.", min=1, max=16)
]


def _concurrencies(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise typer.BadParameter("a comma-separated list of client counts, e.g. 8,32") from None
    if not values or any(not 1 <= v <= 1_000 for v in values):
        raise typer.BadParameter("each client count is 1 … 1000")
    return values


def _demo_credentials(data_dir: Path) -> tuple[str, str]:
    demo = json.loads((data_dir / "demo.json").read_text())
    return str(demo["app_id"]), str(demo["app_secret"])


# Typer reads a command's options from its signature, so a command with many options has as many
# parameters; they are keyword-only, which is what the argument rules ask for.
@bench_app.command("create")
def bench_create(  # noqa: PLR0913
    *,
    concurrency: Annotated[str, typer.Option(help="Concurrent clients per round, e.g. 8,32.")] = "8,32",
    duration: DurationOpt = 10.0,
    max_payments: Annotated[int, typer.Option(help="Creations per round, at most.", min=1)] = 50_000,
    api_processes: ApiProcessesOpt = 1,
    api_workers: ApiWorkersOpt = None,
    ceiling: Annotated[bool, typer.Option(help="Replay the captured SQL as the ceiling.")] = True,
    base_url: Annotated[
        str | None,
        typer.Option(
            help="A running Tongbao (e.g. `serve --demo`); its app, database and key from DATA_DIR."
        ),
    ] = None,
    data_dir: Annotated[Path | None, typer.Option(help="With --base-url: where demo.json is.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Signed creations per second (wechat_native; the simulator answers in its own process), p50/p99,
    and the same creation's SQL replayed against the database at the same concurrency (the ceiling)."""
    plan = create_bench.Plan(_concurrencies(concurrency), duration, max_payments, ceiling)
    show = _progress(as_json)
    meters: dict[str, Any] = {"bench": _own_cpu}
    if (os.environ.get("TONGBAO_DATABASE_URL") or "").startswith("postgresql"):
        meters["database"] = NamedCpu("postgres")  # the whole server's, other clients' too
    if base_url is not None:
        settings = load_settings(data_dir)
        demo_file = settings.data_dir / "demo.json"
        if not demo_file.exists():
            err.print(f"[red]{demo_file} not found: --base-url takes the app of demo.json.[/]")
            raise typer.Exit(2)
        app_id, app_secret = _demo_credentials(settings.data_dir)
        url = settings.resolved_database_url()
        target = create_bench.Target([base_url.rstrip("/")], app_id, app_secret, url)
        plan = replace(plan, meters=meters)
        figures = asyncio.run(_create(settings, master_key(settings, demo=False), target, plan, show))
        figures["api"] = base_url
    else:
        api_workers = _workers(api_workers)
        layout = Layout(api_processes=api_processes, api_workers=api_workers)
        show(f"starting Tongbao ({api_processes} × {api_workers} API processes) and the WeChat Pay simulator")
        with local_deployment(layout, notify_url="http://127.0.0.1:9/unused") as deployment:
            assert deployment.tenant is not None
            tenant = deployment.tenant
            meters["api"] = lambda: _sum(api.cpu_seconds() for api in deployment.apis)
            meters["simulator"] = deployment.simulators[Channel.WECHATPAY].cpu_seconds
            plan = replace(plan, meters=meters)
            target = create_bench.Target(
                deployment.base_urls, tenant.app_id, tenant.app_secret, deployment.database_url
            )
            figures = asyncio.run(_create(deployment.settings(), deployment.master_key(), target, plan, show))
        figures |= {"api_processes": api_processes, "api_workers": api_workers}
    figures["database"] = database_kind(target.database_url)
    tables = figures.pop("_tables")
    emit(console, as_json, figures, tables)


def _own_cpu() -> float:
    times = os.times()
    return times.user + times.system


def _sum(values: Iterable[float | None]) -> float | None:
    readings = list(values)
    return None if any(v is None for v in readings) else sum(v for v in readings if v is not None)


def _progress(quiet: bool) -> Any:
    def show(message: str) -> None:
        if not quiet:
            err.print(f"[dim]… {message}[/]")

    return show


async def _create(
    settings: Settings, key: MasterKey, target: create_bench.Target, plan: create_bench.Plan, show: Any
) -> dict[str, Any]:
    c = build_container(settings, key)
    try:
        return await create_bench.bench(c, target, plan, show)
    finally:
        await c.aclose()


@bench_app.command("e2e")
def bench_e2e(  # noqa: PLR0913
    *,
    concurrency: Annotated[str, typer.Option(help="Concurrent clients per round, e.g. 8,32.")] = "8,32",
    duration: DurationOpt = 10.0,
    max_payments: Annotated[int, typer.Option(help="Payments per round, at most.", min=1)] = 2_000,
    wait: Annotated[float, typer.Option(help="Seconds to wait for a round's last notifications.")] = 30.0,
    api_processes: ApiProcessesOpt = 1,
    api_workers: ApiWorkersOpt = None,
    job_workers: JobWorkersOpt = 1,
    base_url: Annotated[
        str | None, typer.Option(help="A running Tongbao to load instead (its simulators included).")
    ] = None,
    simulator_url: Annotated[
        str | None,
        typer.Option(help="With --base-url: its WeChat Pay simulator (default BASE/sim/wechatpay)."),
    ] = None,
    app_id: Annotated[str | None, typer.Option(help="With --base-url: the app to pay as.")] = None,
    app_secret: Annotated[str | None, typer.Option(help="With --base-url: that app's secret.")] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="With --base-url: take the app from DATA_DIR/demo.json.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Payments per second created, paid and notified, with p50/p99 from paying to the notification."""
    options = e2e.Options(_concurrencies(concurrency), duration, max_payments, wait)
    if base_url is None:
        workers = _workers(api_workers)
        layout = Layout(api_processes=api_processes, api_workers=workers, job_workers=job_workers)
        rounds, setup = e2e.run_local(layout, options)
    else:
        if app_id is None or app_secret is None:
            if data_dir is None:
                raise typer.BadParameter("--base-url needs --app-id and --app-secret, or --data-dir")
            app_id, app_secret = _demo_credentials(data_dir)
        base = base_url.rstrip("/")
        sim = simulator_url or f"{base}/sim/{Channel.WECHATPAY.value}"
        rounds, setup = e2e.run_against(e2e.Target([base], sim, app_id, app_secret), options)
    title = f"bench e2e ({setup.get('database', base_url)})"
    emit(console, as_json, e2e.summary(rounds, setup), [e2e.table(rounds, title)])


@bench_app.command("notify")
def bench_notify(
    *,
    endpoints: Annotated[
        int, typer.Option(help="Merchant endpoints, each its own merchant and port.", min=2)
    ] = 30,
    degraded_share: Annotated[
        float, typer.Option(help="Share of endpoints slow (2 s), hanging or refusing.", min=0, max=0.5)
    ] = 0.1,
    rate: Annotated[float, typer.Option(help="Notifications written per second.", min=1, max=5_000)] = 100.0,
    duration: DurationOpt = 10.0,
    wait: Annotated[float, typer.Option(help="Seconds to wait for a run's last healthy deliveries.")] = 30.0,
    warmup: Annotated[float, typer.Option(help="Seconds of unmeasured load first.", min=0, max=60)] = 2.0,
    job_workers: JobWorkersOpt = 1,
    as_json: JsonOpt = False,
) -> None:
    """Notifications per second, and healthy endpoints' p99 with and without a tenth slow or dead."""
    options = notify.Options(endpoints, degraded_share, rate, duration, wait, warmup_s=warmup)
    layout = Layout(api_processes=1, job_workers=job_workers, channels=())
    runs, setup = notify.run_local(layout, options)
    title = f"bench notify ({setup['database']}, {endpoints} endpoints, {rate:.0f}/s offered)"
    emit(console, as_json, notify.summary(runs, setup), [notify.table(runs, title)])


@bench_app.command("ledger")
def bench_ledger(
    *,
    database_url: Annotated[
        str | None,
        typer.Option(
            help="A database to post into as it is (schema upgraded first). Default: a scratch one on "
            "TONGBAO_DATABASE_URL's PostgreSQL server, dropped after (SQLite when that is not set)."
        ),
    ] = None,
    concurrency: Annotated[int, typer.Option(help="Concurrent writers.", min=1, max=96)] = 16,
    seconds: Annotated[float, typer.Option(help="Seconds per scenario.", min=0.1, max=600)] = 8.0,
    warmup_seconds: Annotated[
        float, typer.Option(help="Unmeasured seconds per scenario first.", min=0, max=60)
    ] = 2.0,
    as_json: JsonOpt = False,
) -> None:
    """Journal entries per second through the posting path, a thousand merchants (spread) against
    one (hot), with the balance folder running; exit 1 if `ledger check` finds anything after."""
    options = ledger.Options(concurrency, seconds, warmup_seconds)
    settings = load_settings()  # logging to stderr: stdout is the figures'
    with ledger.database(database_url) as url:
        outcome = ledger.run(settings, url, options, _progress(as_json))
    emit(console, as_json, ledger.summary(outcome, url), [ledger.table(outcome, url)])
    if outcome.problems:
        err.print(f"[red]ledger check after the bench: {len(outcome.problems)} problem(s)[/]")
        for problem in outcome.problems[: ledger.SHOWN_PROBLEMS]:
            err.print(f"  - {problem}", highlight=False)
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(bench_app, name="bench")
