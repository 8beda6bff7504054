"""A run's figures and findings: a Rich report for people, one JSON object for machines."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .run import Outcome, Progress

VIOLATIONS_SHOWN = 40


def progress_line(p: Progress, rounds: int, payments: int) -> str:
    line = f"{p.phase}: round {p.round}/{rounds} · payments {p.payments_done}/{payments} · kills {p.kills}"
    return line + (f" · still {_counts(p.moving)}" if p.moving else "")


def figures(o: Outcome) -> dict[str, Any]:
    statuses = Counter(p.status for p in o.records.payments)
    refunds = Counter(r.status for r in o.records.refunds)
    return {
        "seed": o.options.seed,
        "rounds": o.options.rounds,
        "payments_planned": o.options.payments,
        "payments": len(o.records.payments),
        "payment_statuses": dict(sorted(statuses.items())),
        "refunds": dict(sorted(refunds.items())),
        "attempts": len(o.records.attempts),
        "cases": dict(Counter(f"{c.kind}/{c.status}" for c in o.records.cases)),
        "events": len(o.records.events),
        "deliveries": o.deliveries,
        "duplicates_after_worker_kill": o.duplicates_after_worker_kill,
        "merchant_calls": dict(o.load.actions),
        "merchant_retries": o.merchant_retries,
        "transport_errors": o.transport_errors,
        "kills": [
            {"round": k.round, "process": k.process, "pid": k.pid, "down_s": round(k.restarted_after_s, 2)}
            for k in o.kills
        ],
        "restarts": o.restarts,
        "quiescence_s": round(o.settled.waited_s, 1),
        "quiescence_trace": [{"after_s": at, "moving": still} for at, still in o.settled.trace],
        "load_s": round(o.load_elapsed_s, 1),
        "elapsed_s": round(o.elapsed_s, 1),
    }


def as_json(o: Outcome) -> str:
    return json.dumps(
        {"violations": [v.to_json() for v in o.violations], **figures(o)}, ensure_ascii=False, default=str
    )


def print_report(console: Console, o: Outcome) -> None:
    f = figures(o)
    table = Table(
        title=f"tongbao chaos — seed {o.options.seed}, {o.options.rounds} rounds", show_header=False
    )
    table.add_column("what")
    table.add_column("figure")
    table.add_row(
        "payments", f"{f['payments']} of {f['payments_planned']}: " + _counts(f["payment_statuses"])
    )
    table.add_row("refunds", _counts(f["refunds"]) or "none")
    table.add_row("exception cases", _counts(f["cases"]) or "none")
    table.add_row("merchant calls", _counts(f["merchant_calls"]))
    table.add_row("retries (transport errors)", f"{f['merchant_retries']} ({f['transport_errors']})")
    table.add_row("events / deliveries", f"{f['events']} / {f['deliveries']}")
    table.add_row("re-sent after a worker died", str(f["duplicates_after_worker_kill"]))
    kills = Counter(k.process for k in o.kills)
    table.add_row("kills", _counts(dict(sorted(kills.items()))) or "none")
    table.add_row("quiescence", f"{f['quiescence_s']} s" + ("" if o.settled.reached else " (not reached)"))
    table.add_row("elapsed", f"{f['elapsed_s']} s")
    console.print(table)
    if not o.violations:
        console.print("[green]no violations[/]")
        return
    console.print(f"[red]{len(o.violations)} violations[/]")
    for v in o.violations[:VIOLATIONS_SHOWN]:
        console.print(Text.assemble(("  " + v.check, "red"), ": " + v.message), highlight=False)
    if len(o.violations) > VIOLATIONS_SHOWN:
        console.print(f"  … and {len(o.violations) - VIOLATIONS_SHOWN} more (--json lists them all)")


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {n}" for name, n in counts.items())
