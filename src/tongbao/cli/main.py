"""``tongbao``: serve, work, migrate, and manage from the command line."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path
from typing import Annotated, Any

import typer
import uvicorn
from fastapi import APIRouter
from rich.panel import Panel
from rich.table import Table

from tongbao.api.app import create_app
from tongbao.bootstrap import build_container, build_worker
from tongbao.cli import asgi, bench, chaos, ledger, manage, sim
from tongbao.cli.runtime import (
    console,
    err,
    load_settings,
    master_key,
    require_schema_at_head,
    run_with_container,
)
from tongbao.config import Settings
from tongbao.container import Container
from tongbao.db import migrate
from tongbao.db.engine import PoolOptions, engine_for
from tongbao.demo.registration import DemoSimulators
from tongbao.demo.seed import DemoState, previous_admin_token, seed_demo, write_demo_file
from tongbao.demo.shop import demo_shop_router
from tongbao.security.secretbox import generate_master_key
from tongbao.simulators.alipay import create_alipay_simulator
from tongbao.simulators.unionpay import create_unionpay_simulator
from tongbao.simulators.wechatpay.app import create_wechatpay_simulator

# A crash shows its traceback without local variables: they may hold keys and secrets.
app = typer.Typer(
    help="Tongbao (通宝) payment gateway.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
db_app = typer.Typer(help="Database schema migrations.", no_args_is_help=True)
app.add_typer(db_app, name="db")
manage.register(app)
sim.register(app)
bench.register(app)
chaos.register(app)
ledger.register(app)

DataDirOpt = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Data directory (default $TONGBAO_DATA_DIR or ./.tongbao)."),
]


@app.command()
def serve(
    demo: Annotated[
        bool, typer.Option("--demo", help="Embedded demo: migrate, seed, run the worker in-process.")
    ] = False,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    workers: Annotated[
        int,
        typer.Option(help="API processes sharing the port (more than 1: PostgreSQL only).", min=1, max=64),
    ] = 1,
    data_dir: DataDirOpt = None,
) -> None:
    """Run the HTTP API (and, with --demo, everything else in the same process)."""
    settings = load_settings(data_dir)
    if workers > 1:
        _refuse_several_processes(settings, demo=demo)
    if demo:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        key = master_key(settings, demo=True)
        migrate.upgrade(settings.resolved_database_url())
    else:
        key = master_key(settings, demo=False, production_server=True)
        require_schema_at_head(settings)
    public_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104 - just a display name
    base_url = f"http://{public_host}:{port}"
    if not settings.public_base_url and not demo:
        err.print(
            f"[yellow]TONGBAO_PUBLIC_BASE_URL is not set: cashier links and channel callbacks will use "
            f"{base_url}, which payers and channels outside this machine cannot reach.[/]"
        )
    settings.public_base_url = settings.public_base_url or base_url
    simulators: dict[str, Any] = {}
    extra: list[APIRouter] = []
    if demo:
        settings.demo_payer_links = True
        simulators.update(
            wechatpay=create_wechatpay_simulator(),
            alipay=create_alipay_simulator(),
            unionpay=create_unionpay_simulator(),
        )
        sims = DemoSimulators(**{name: app.state.simulator for name, app in simulators.items()})
        demo_file = settings.data_dir / "demo.json"
        token = previous_admin_token(demo_file)
        state = run_with_container(settings, key, lambda c: seed_demo(c, base_url, token, sims))
        write_demo_file(demo_file, state)
        extra.append(demo_shop_router(base_url, state.app_id, state.app_secret))
        _print_demo(state, demo_file)
    if workers > 1:
        # Each process builds its own container from the environment (tongbao/cli/asgi.py).
        asgi.hand_down(settings)
        uvicorn.run(
            asgi.FACTORY,
            factory=True,
            workers=workers,
            host=host,
            port=port,
            log_level="info",
            proxy_headers=True,
        )
        return
    container = build_container(settings, key)
    api = create_app(container, own_container=True, run_worker=demo, simulators=simulators, routers=extra)
    uvicorn.run(api, host=host, port=port, log_level="info", proxy_headers=True)


def _refuse_several_processes(settings: Settings, *, demo: bool) -> None:
    if demo:
        err.print(
            "[bold red]Refusing to start:[/] --demo runs the worker and the channel simulators inside "
            "the server process, with their state in memory, so it is one process. For several API "
            "processes run `tongbao serve --workers N` on PostgreSQL, with `tongbao worker` and "
            "`tongbao sim …` beside it."
        )
        raise typer.Exit(2)
    if not settings.resolved_database_url().startswith("postgresql"):
        err.print(
            "[bold red]Refusing to start:[/] --workers above 1 needs PostgreSQL. SQLite lets one "
            "writer in at a time, so several processes on one file queue on its write lock instead "
            "of working side by side. Set TONGBAO_DATABASE_URL=postgresql+asyncpg://…, or run one "
            "process."
        )
        raise typer.Exit(2)


def _print_demo(state: DemoState, demo_file: Path) -> None:
    lines = [
        f"[bold]API docs[/]       {state.base_url}/docs",
        f"[bold]Health[/]         {state.base_url}/healthz",
        f"[bold]Merchant[/]       {state.merchant_id}  (Demo Coffee, active)",
        f"[bold]App id[/]         {state.app_id}",
        f"[bold]App secret[/]     {state.app_secret}",
        f"[bold]Admin token[/]    {state.admin_token}",
        f"[bold]Credentials[/]    {demo_file.resolve()}",
        "",
        f"[bold green]Pay something[/]  {state.cashier_url}",
        '               (pick a method; for a QR code follow "Open the simulator\'s payer page", then Pay)',
        f"[bold]Notifications[/]  {state.base_url}/demo/notifications  (what the demo merchant received)",
        "",
        f"Try a signed call:  [cyan]tongbao call GET /v1/me --data-dir {demo_file.parent}[/]",
        f"Operator API:      [cyan]curl -H 'Authorization: Bearer {state.admin_token}' "
        f"{state.base_url}/admin/v1/merchants[/]",
    ]
    console.print(Panel("\n".join(lines), title="Tongbao demo", border_style="green"))


@app.command()
def worker(data_dir: DataDirOpt = None) -> None:
    """Run the durable jobs (notifications, channel queries, expiry, housekeeping) until SIGINT/SIGTERM."""
    settings = load_settings(data_dir)
    key = master_key(settings, demo=False)
    require_schema_at_head(settings)

    async def run(c: Container) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await build_worker(c).run(stop)

    run_with_container(settings, key, run)


@app.command()
def keygen() -> None:
    """Print a new master key for TONGBAO_MASTER_KEY."""
    console.print(generate_master_key(), highlight=False)


@app.command()
def call(
    method: Annotated[str, typer.Argument(help="GET or POST")],
    path: Annotated[str, typer.Argument(help="e.g. /v1/me")],
    body: Annotated[str | None, typer.Option("--json", help="JSON body for POST")] = None,
    idempotency_key: Annotated[str | None, typer.Option("--idempotency-key")] = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Make a signed merchant API call as the demo app (credentials from DATA_DIR/demo.json)."""
    from tongbao.client import ResponseSignatureInvalid, TongbaoClient

    settings = load_settings(data_dir)
    demo_file = settings.data_dir / "demo.json"
    if not demo_file.exists():
        err.print(f"[red]{demo_file} not found: start `tongbao serve --demo` first.[/]")
        raise typer.Exit(2)
    try:
        payload = json.loads(body) if body else None
    except json.JSONDecodeError as exc:
        err.print(f"[red]--json is not valid JSON: {exc}[/]")
        raise typer.Exit(2) from exc
    with TongbaoClient.from_demo(demo_file) as client:
        try:
            response = client.request(method.upper(), path, json=payload, idempotency_key=idempotency_key)
        except ResponseSignatureInvalid as exc:
            err.print(f"[bold red]Response signature invalid:[/] {exc}")
            raise typer.Exit(1) from exc
    verified = "verified" if "tongbao-signature" in response.headers else "unsigned (rejected at the door)"
    console.print(f"HTTP {response.status_code}  signature {verified}", highlight=False)
    console.print_json(response.text)
    if response.status_code >= 400:
        raise typer.Exit(1)


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision")] = "head", data_dir: DataDirOpt = None
) -> None:
    """Migrate the database to REVISION (default: the newest)."""
    settings = load_settings(data_dir)
    if settings.resolved_database_url().startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(settings.resolved_database_url(), revision, PoolOptions.from_settings(settings))
    console.print(f"Database at revision {revision if revision != 'head' else migrate.head_revision()}.")


@db_app.command("current")
def db_current(data_dir: DataDirOpt = None) -> None:
    """Show the database's revision and the newest this Tongbao knows."""
    settings = load_settings(data_dir)

    async def current() -> str | None:
        engine = engine_for(settings)
        try:
            return await migrate.current_revision(engine)
        finally:
            await engine.dispose()

    table = Table("database", "current", "head")
    table.add_row(
        _redact(settings.resolved_database_url()), asyncio.run(current()) or "none", migrate.head_revision()
    )
    console.print(table)


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def main() -> None:
    app()
