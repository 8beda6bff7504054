"""``tongbao chaos``: kill Tongbao's processes under load and faulty channels, then check that no money,
notification or job was lost (the work lives in ``tongbao.chaos``)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.live import Live

from tongbao.chaos.report import as_json, print_report, progress_line
from tongbao.chaos.run import Options, Progress, run_chaos
from tongbao.cli.runtime import console, err


def register(app: typer.Typer) -> None:
    @app.command()
    def chaos(
        rounds: Annotated[int, typer.Option(help="Kill/restart rounds.", min=0, max=1000)] = 10,
        seed: Annotated[int, typer.Option(help="Seeds every choice of the run.")] = 1,
        payments: Annotated[int, typer.Option(help="Payments in the load.", min=1, max=20_000)] = 300,
        json_out: Annotated[
            bool, typer.Option("--json", help="One JSON object: violations and figures.")
        ] = False,
        workdir: Annotated[
            Path | None, typer.Option(help="Where the processes' logs go (default: a new temporary folder).")
        ] = None,
    ) -> None:
        """Two API processes, two workers and three faulty simulators on TONGBAO_DATABASE_URL
        (PostgreSQL), a mixed load, SIGKILLs; exits 1 on any violation."""
        database_url = os.environ.get("TONGBAO_DATABASE_URL", "")
        if not database_url.startswith("postgresql"):
            err.print(
                "[red]tongbao chaos runs several processes on one database: set TONGBAO_DATABASE_URL to a "
                "PostgreSQL database (postgresql+asyncpg://…); SQLite is not for that.[/]"
            )
            raise typer.Exit(2)
        folder = workdir or Path(tempfile.mkdtemp(prefix="tongbao-chaos-"))
        options = Options(database_url, folder, rounds, seed, payments)
        progress = Progress()
        if json_out:
            outcome = run_chaos(options, progress, lambda: None)
            console.print(as_json(outcome), soft_wrap=True, highlight=False, markup=False)
        else:
            console.print(f"logs in {folder}", highlight=False)
            with Live(console=console, refresh_per_second=4, transient=True) as live:

                def refresh() -> None:
                    live.update(progress_line(progress, rounds, payments))

                outcome = run_chaos(options, progress, refresh)
            for note in progress.notes:
                console.print(note, highlight=False)
            print_report(console, outcome)
        if outcome.violations:
            raise typer.Exit(1)
