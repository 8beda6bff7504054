"""``tongbao bench …``: load a real Tongbao from outside and print what it sustains."""

from __future__ import annotations

import typer

bench_app = typer.Typer(
    help="Benchmarks against a real Tongbao: its own processes on TONGBAO_DATABASE_URL, or --base-url.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(bench_app, name="bench")
