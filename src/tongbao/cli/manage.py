"""Management commands: operators, and read-only views of merchants, apps and channel accounts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tongbao.cli.runtime import console, err, load_settings, master_key, run_with_container
from tongbao.container import Container
from tongbao.errors import TongbaoError
from tongbao.merchants.app_service import AppService
from tongbao.merchants.channel_service import ChannelAccountService
from tongbao.merchants.merchant_service import MerchantService, Page
from tongbao.security.operators import OperatorService

DataDirOpt = Annotated[Path | None, typer.Option("--data-dir", help="Data directory.")]
LIST_LIMIT = 500


def _run(data_dir: Path | None, work):  # type: ignore[no-untyped-def]
    settings = load_settings(data_dir)
    try:
        return run_with_container(settings, master_key(settings, demo=False), work)
    except TongbaoError as exc:
        err.print(f"[red]{exc.code}:[/] {exc.message}")
        raise typer.Exit(1) from exc


def register(app: typer.Typer) -> None:
    _operator_commands(app)
    _listing_commands(app)


def _operator_commands(app: typer.Typer) -> None:
    operator = typer.Typer(help="Operator tokens for the admin API.", no_args_is_help=True)
    app.add_typer(operator, name="operator")

    @operator.command("create")
    def operator_create(name: str, data_dir: DataDirOpt = None) -> None:
        """Create an operator and print its token (shown once)."""
        issued = _run(data_dir, lambda c: OperatorService(c).create(name))
        console.print(f"Operator {issued.operator.name} ({issued.operator.id}). Token, shown once:")
        console.print(issued.token, highlight=False)

    @operator.command("reissue")
    def operator_reissue(name: str, data_dir: DataDirOpt = None) -> None:
        """Give an operator a new token; the old one stops working."""
        issued = _run(data_dir, lambda c: OperatorService(c).reissue(name))
        console.print(issued.token, highlight=False)

    @operator.command("revoke")
    def operator_revoke(name: str, data_dir: DataDirOpt = None) -> None:
        """Revoke an operator's token."""
        revoked = _run(data_dir, lambda c: OperatorService(c).revoke(name))
        console.print(f"Revoked {revoked.name} at {revoked.revoked_at:%Y-%m-%d %H:%M:%S} UTC.")

    @operator.command("list")
    def operator_list(data_dir: DataDirOpt = None) -> None:
        """List operators."""
        table = Table("id", "name", "created", "revoked")
        for o in _run(data_dir, lambda c: OperatorService(c).list_operators()):
            table.add_row(o.id, o.name, f"{o.created_at:%Y-%m-%d %H:%M}", f"{o.revoked_at or ''}")
        console.print(table)


def _listing_commands(app: typer.Typer) -> None:
    merchants = typer.Typer(help="Merchants.", no_args_is_help=True)
    apps = typer.Typer(help="Apps.", no_args_is_help=True)
    accounts = typer.Typer(help="Channel accounts.", no_args_is_help=True)
    app.add_typer(merchants, name="merchants")
    app.add_typer(apps, name="apps")
    app.add_typer(accounts, name="channel-accounts")

    @merchants.command("list")
    def merchants_list(data_dir: DataDirOpt = None) -> None:
        """List merchants and their review status."""
        table = Table("id", "name", "legal name", "status")
        for m in _run(data_dir, lambda c: MerchantService(c).list_merchants(Page(limit=LIST_LIMIT))):
            table.add_row(m.id, m.name, m.legal_name, m.status)
        console.print(table)

    @apps.command("list")
    def apps_list(
        merchant_id: Annotated[str | None, typer.Option("--merchant")] = None, data_dir: DataDirOpt = None
    ) -> None:
        """List apps."""
        table = Table("id", "merchant", "name", "enabled", "notify url")
        for a in _run(data_dir, lambda c: AppService(c).list_apps(Page(limit=LIST_LIMIT), merchant_id)):
            table.add_row(a.id, a.merchant_id, a.name, "yes" if a.enabled else "no", a.notify_url or "")
        console.print(table)

    @accounts.command("list")
    def accounts_list(data_dir: DataDirOpt = None) -> None:
        """List channel accounts (credentials are never shown)."""
        table = Table("id", "name", "channel", "mode", "owner", "enabled", "base url")

        async def rows(c: Container) -> list:  # type: ignore[type-arg]
            return await ChannelAccountService(c).list_accounts(Page(limit=LIST_LIMIT))

        for a in _run(data_dir, rows):
            table.add_row(
                a.id,
                a.name,
                a.channel,
                a.mode,
                a.merchant_id or "platform",
                "yes" if a.enabled else "no",
                a.base_url,
            )
        console.print(table)
