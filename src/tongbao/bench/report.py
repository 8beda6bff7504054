"""A bench's figures as a Rich table for people and one JSON object for machines."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from .load import Round


def round_figures(r: Round) -> dict[str, Any]:
    return {
        "concurrency": r.concurrency,
        "completed": r.completed,
        "errors": r.error_count,
        "error_kinds": dict(r.errors),
        "elapsed_s": round(r.elapsed_s, 3),
        "per_s": round(r.per_s, 1),
        "p50_ms": round(r.p50_ms, 1),
        "p99_ms": round(r.p99_ms, 1),
    }


def rounds_table(title: str, rounds: Sequence[Round], unit: str = "payments/s") -> Table:
    table = Table(title=title)
    for name in ("clients", unit, "p50 ms", "p99 ms", "done", "errors"):
        table.add_column(name, justify="right")
    for r in rounds:
        errors = ", ".join(f"{kind} ×{count}" for kind, count in r.errors.most_common(3)) or "0"
        table.add_row(
            str(r.concurrency),
            f"{r.per_s:.1f}",
            f"{r.p50_ms:.1f}",
            f"{r.p99_ms:.1f}",
            str(r.completed),
            errors,
        )
    return table


def best(rounds: Sequence[Round]) -> Round:
    """The round with the highest throughput: the figure a bench's summary leads with."""
    return max(rounds, key=lambda r: r.per_s)


def emit(console: Console, as_json: bool, summary: dict[str, Any], tables: Sequence[Table]) -> None:
    if as_json:
        console.print(json.dumps(summary, ensure_ascii=False), soft_wrap=True, highlight=False, markup=False)
        return
    for table in tables:
        console.print(table)
