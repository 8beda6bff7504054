"""``tongbao bench create``: signed payment creations per second against a real Tongbao, and the
same creation's captured SQL replayed straight against its database as the ceiling."""

from __future__ import annotations

import itertools
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from rich.table import Table

from tongbao.api.app import create_app
from tongbao.client import encode_json, sign_request
from tongbao.container import Container

from .capture import Capture, capturing
from .ceiling import Replayer, fresh_values, replay
from .load import Round, run_round
from .report import round_figures, rounds_table
from .signed import SignedClient

PATH = "/v1/payments"


@dataclass(frozen=True)
class Target:
    """Where the load goes: the API processes' base URLs, an app of the merchant, its database."""

    base_urls: Sequence[str]
    app_id: str
    app_secret: str
    database_url: str


CpuMeter = Callable[[], float | None]


@dataclass(frozen=True)
class Plan:
    concurrencies: Sequence[int]
    duration_s: float
    max_count: int
    ceiling: bool = True
    at_fraction: float = 0.8  # the paced round: this share of the best rate
    # CPU seconds used so far, by who: what each creation cost each of them.
    meters: Mapping[str, CpuMeter] = field(default_factory=dict)


@dataclass
class Measured:
    concurrency: int
    gateway: Round
    ceiling: Round | None
    cpu_ms: dict[str, float] = field(default_factory=dict)  # per creation, by process kind

    @property
    def ratio(self) -> float | None:
        if self.ceiling is None or not self.ceiling.per_s:
            return None
        return self.gateway.per_s / self.ceiling.per_s


def order(tag: str, number: int) -> dict[str, Any]:
    return {
        "out_trade_no": f"bench-{tag}-{number}",
        "amount": 1,
        "subject": "bench",
        "method": "wechat_native",
    }


async def capture_creation(c: Container, target: Target) -> tuple[Capture, list[str]]:
    """One creation through the whole in-process app (signature, nonce, idempotency, creation, the
    channel call to the simulator, the answer), after one to warm up, recorded statement by statement."""
    app = create_app(c)
    tag = secrets.token_hex(4)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://tongbao") as http:
        for number in range(2):
            body = encode_json(order(f"capture-{tag}", number))
            nonce = secrets.token_hex(16)
            key = f"bench-capture-{tag}-{number}"
            headers = sign_request(
                target.app_id, target.app_secret, "POST", PATH, body, timestamp=int(time.time()), nonce=nonce
            )
            headers |= {"Content-Type": "application/json", "Idempotency-Key": key}
            since = c.clock.now()
            with capturing(c.engine) as capture:
                answer = await http.post(PATH, content=body, headers=headers)
            if answer.status_code != 201:
                raise RuntimeError(
                    f"the captured creation answered {answer.status_code}: {answer.text[:300]}"
                )
            sent = [f"bench-capture-{tag}-{number}", nonce, key]
    return capture, fresh_values(capture, since, sent)


@dataclass
class Outcome:
    rows: list[Measured]
    paced: Round | None = None
    paced_rate: float = 0.0


async def measure(target: Target, plan: Plan, replayer: Replayer | None, progress: Any) -> Outcome:
    tag = secrets.token_hex(4)
    numbers = itertools.count()
    clients = [
        SignedClient(url, target.app_id, target.app_secret, max(plan.concurrencies))
        for url in target.base_urls
    ]
    turn = itertools.cycle(clients)

    async def create(_: int) -> None:
        number = next(numbers)
        await next(turn).post(PATH, order(tag, number), idempotency_key=f"bench-{tag}-{number}")

    outcome = Outcome([])
    results = outcome.rows
    try:
        await run_round(create, min(plan.concurrencies), 1.0, 50)  # connections and caches warm
        for concurrency in plan.concurrencies:
            progress(f"gateway at {concurrency} clients")
            before = _cpu(plan.meters)
            gateway = await run_round(create, concurrency, plan.duration_s, plan.max_count)
            cpu = _per_op(before, _cpu(plan.meters), gateway.completed)
            ceiling = None
            if replayer is not None:
                progress(f"ceiling at {concurrency} clients")
                ceiling = await replay(target.database_url, replayer, concurrency, plan.duration_s)
            results.append(Measured(concurrency, gateway, ceiling, cpu))
        best = max(results, key=lambda m: m.gateway.per_s)
        outcome.paced_rate = best.gateway.per_s * plan.at_fraction
        if outcome.paced_rate > 0:
            progress(f"paced at {outcome.paced_rate:.0f}/s ({plan.at_fraction:.0%} of the best)")
            outcome.paced = await run_round(
                create, max(plan.concurrencies) * 2, plan.duration_s, plan.max_count, outcome.paced_rate
            )
    finally:
        for client in clients:
            await client.aclose()
    return outcome


def _cpu(meters: Mapping[str, CpuMeter]) -> dict[str, float]:
    readings = {name: meter() for name, meter in meters.items()}
    return {name: value for name, value in readings.items() if value is not None}


def _per_op(before: dict[str, float], after: dict[str, float], count: int) -> dict[str, float]:
    if not count:
        return {}
    return {name: round((after[name] - before[name]) * 1000 / count, 2) for name in before if name in after}


def summary(outcome: Outcome, capture: Capture | None, context: dict[str, Any]) -> dict[str, Any]:
    """Led by the best round; ``ratio`` is that round's throughput over the ceiling at its concurrency."""
    best = max(outcome.rows, key=lambda m: m.gateway.per_s)
    figures: dict[str, Any] = {
        "bench": "create",
        "payments_per_s": round(best.gateway.per_s, 1),
        "p50_ms": round(best.gateway.p50_ms, 1),
        "p99_ms": round(best.gateway.p99_ms, 1),
        "concurrency": best.concurrency,
        "ceiling_per_s": round(best.ceiling.per_s, 1) if best.ceiling else None,
        "ratio": round(best.ratio, 3) if best.ratio is not None else None,
        "errors": sum(m.gateway.error_count for m in outcome.rows),
        "cpu_ms_per_creation": best.cpu_ms,
        **context,
        "rounds": [
            {
                "concurrency": m.concurrency,
                "gateway": round_figures(m.gateway),
                "ceiling": round_figures(m.ceiling) if m.ceiling else None,
                "ratio": round(m.ratio, 3) if m.ratio is not None else None,
                "cpu_ms_per_creation": m.cpu_ms,
            }
            for m in outcome.rows
        ],
    }
    if outcome.paced is not None:
        figures["paced"] = {"rate_per_s": round(outcome.paced_rate, 1), **round_figures(outcome.paced)}
    if capture is not None:
        figures["sql_per_creation"] = {
            "transactions": len(capture.transactions),
            "statements": capture.statement_count,
            "round_trips": capture.round_trips,
        }
    return figures


def tables(outcome: Outcome) -> list[Table]:
    table = Table(title="tongbao bench create (wechat_native, signed, with Idempotency-Key)")
    meters = sorted({name for m in outcome.rows for name in m.cpu_ms})
    for name in ("clients", "payments/s", "p50 ms", "p99 ms", "errors", "ceiling/s", "ratio"):
        table.add_column(name, justify="right")
    for name in meters:
        table.add_column(f"{name} CPU ms", justify="right")
    for m in outcome.rows:
        g = m.gateway
        table.add_row(
            str(m.concurrency),
            f"{g.per_s:.1f}",
            f"{g.p50_ms:.1f}",
            f"{g.p99_ms:.1f}",
            _errors(g),
            f"{m.ceiling.per_s:.1f}" if m.ceiling else "-",
            f"{m.ratio:.2f}" if m.ratio is not None else "-",
            *(f"{m.cpu_ms[name]:.1f}" if name in m.cpu_ms else "-" for name in meters),
        )
    out = [table]
    if outcome.paced is not None:
        out.append(rounds_table(f"paced at {outcome.paced_rate:.0f} creations/s", [outcome.paced]))
    return out


def _errors(r: Round) -> str:
    return ", ".join(f"{kind} ×{count}" for kind, count in r.errors.most_common(3)) or "0"


async def bench(c: Container, target: Target, plan: Plan, progress: Any) -> dict[str, Any]:
    """Capture first (so the ceiling replays the path as it is now), then the rounds."""
    replayer = None
    capture = None
    if plan.ceiling:
        progress("capturing one creation's SQL")
        capture, fresh = await capture_creation(c, target)
        replayer = Replayer(capture, fresh)
    outcome = await measure(target, plan, replayer, progress)
    figures = summary(outcome, capture, {})
    figures["_tables"] = tables(outcome)
    return figures
