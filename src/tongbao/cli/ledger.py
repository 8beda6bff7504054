"""``tongbao ledger check | verify | fold | seal`` and ``tongbao recon internal``."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from tongbao.cli.runtime import console, err, load_settings, master_key, run_with_container
from tongbao.container import Container
from tongbao.ledger.check import Report, check
from tongbao.ledger.internal_recon import BEIJING, Difference
from tongbao.ledger.internal_recon import run as run_internal
from tongbao.ledger.jobs import fold_balances, seal_chain
from tongbao.ledger.verify import Verdict, verify

DataDirOpt = Annotated[Path | None, typer.Option("--data-dir", help="Data directory.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def _run(data_dir: Path | None, work):  # type: ignore[no-untyped-def]
    settings = load_settings(data_dir)
    return run_with_container(settings, master_key(settings, demo=False), work)


def _problems(title: str, problems: list[str], as_json: bool) -> None:
    if as_json or not problems:
        return
    err.print(f"[red]{title}: {len(problems)} problem(s)[/]")
    for problem in problems:
        err.print(f"  - {problem}", highlight=False)


def register(app: typer.Typer) -> None:
    ledger = typer.Typer(help="The double-entry ledger: invariants, the hash chain.", no_args_is_help=True)
    recon = typer.Typer(help="Reconciliation.", no_args_is_help=True)
    app.add_typer(ledger, name="ledger")
    app.add_typer(recon, name="recon")
    _check_commands(ledger)
    _background_commands(ledger)
    _recon_commands(recon)


def _check_commands(ledger: typer.Typer) -> None:

    @ledger.command("check")
    def ledger_check(data_dir: DataDirOpt = None, as_json: JsonOpt = False) -> None:
        """Recompute every balance from the postings and check every invariant; exit 1 on any problem."""

        async def work(c: Container) -> Report:
            async with c.uow() as tx:
                return await check(tx)

        report: Report = _run(data_dir, work)
        if as_json:
            print(
                json.dumps(
                    {
                        "ok": report.ok,
                        "entries": report.entries,
                        "accounts": report.accounts,
                        "debits": report.totals,
                        "problems": report.problems,
                    }
                )
            )
        else:
            totals = ", ".join(f"{cur} {amount}" for cur, amount in report.totals.items()) or "nothing posted"
            console.print(
                f"{report.entries} entries, {report.accounts} accounts; Σ debits = Σ credits: {totals}"
            )
            _problems("ledger check", report.problems, as_json)
            if report.ok:
                console.print("[green]ledger check: every invariant holds[/]")
        raise typer.Exit(0 if report.ok else 1)

    @ledger.command("verify")
    def ledger_verify(
        data_dir: DataDirOpt = None,
        expect: Annotated[
            str | None, typer.Option(help="A head hash published earlier: it must match.")
        ] = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Re-walk the hash chain; name the first altered, inserted or deleted entry; exit 1 on any."""

        async def work(c: Container) -> Verdict:
            async with c.uow() as tx:
                return await verify(tx)

        verdict: Verdict = _run(data_dir, work)
        if expect is not None and expect != verdict.head:
            verdict.problems.append(f"the chain's head is {verdict.head}, not the {expect} expected")
        if as_json:
            print(
                json.dumps(
                    {
                        "ok": verdict.ok,
                        "sealed": verdict.sealed,
                        "head": verdict.head,
                        "problems": verdict.problems,
                    }
                )
            )
        else:
            console.print(f"{verdict.sealed} sealed entries; head {verdict.head}", highlight=False)
            _problems("ledger verify", verdict.problems, as_json)
            if verdict.ok:
                console.print("[green]ledger verify: the chain is intact[/]")
        raise typer.Exit(0 if verdict.ok else 1)


def _background_commands(ledger: typer.Typer) -> None:
    @ledger.command("fold")
    def ledger_fold(data_dir: DataDirOpt = None) -> None:
        """Fold the postings committed since the last fold into the balances now (workers: every second)."""
        _run(data_dir, fold_balances)

    @ledger.command("seal")
    def ledger_seal(data_dir: DataDirOpt = None) -> None:
        """Seal the entries committed since the last seal into the chain now (a worker does it every 5 s)."""
        _run(data_dir, seal_chain)


def _recon_commands(recon: typer.Typer) -> None:
    @recon.command("internal")
    def recon_internal(
        business_date: Annotated[
            str | None,
            typer.Option("--date", help="Business date YYYY-MM-DD in Beijing time; default yesterday."),
        ] = None,
        everything: Annotated[bool, typer.Option("--all", help="Every date at once.")] = False,
        data_dir: DataDirOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Compare payments, refunds and fees with the journal; record the run; exit 1 on differences."""
        day = None if everything else _business_date(business_date)
        record, found = _run(data_dir, lambda c: run_internal(c, day))
        if as_json:
            print(
                json.dumps(
                    {
                        "run_id": record.id,
                        "business_date": record.business_date,
                        "payments": record.payments_checked,
                        "refunds": record.refunds_checked,
                        "entries": record.entries_checked,
                        "differences": [_plain(d) for d in found],
                    }
                )
            )
        else:
            day_shown = record.business_date or "all dates"
            console.print(
                f"internal recon {day_shown} ({record.id}): {record.payments_checked} payments, "
                f"{record.refunds_checked} refunds, {record.entries_checked} entries, "
                f"{len(found)} difference(s)"
            )
            _problems("internal recon", [f"{d.kind}: {d.message}" for d in found], as_json)
        raise typer.Exit(1 if found else 0)


def _business_date(text: str | None) -> date:
    if text is None:
        return (datetime.now(BEIJING) - timedelta(days=1)).date()
    try:
        return date.fromisoformat(text)
    except ValueError:
        err.print(f"[red]--date: {text!r} is not a date YYYY-MM-DD[/]")
        raise typer.Exit(2) from None


def _plain(d: Difference) -> dict[str, str | None]:
    return {
        "kind": d.kind,
        "message": d.message,
        "payment_id": d.payment_id,
        "refund_id": d.refund_id,
        "entry_id": d.entry_id,
    }
