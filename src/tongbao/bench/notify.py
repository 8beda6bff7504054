"""``tongbao bench notify``: notifications delivered per second, and whether merchants whose endpoints
are healthy wait longer when a tenth of the others are slow or dead.

Every endpoint is its own merchant (a run-tagged one, with its app) listening on its own port, as
distinct merchant servers do. The bench writes notification events straight into the outbox at a
steady rate, in transactions as the payment and refund paths write them (``notify.events``), and
the job workers deliver them. Two runs on the same processes, one after the other: the baseline
with every endpoint healthy, then the same load with the degraded tenth answering after 2 s, never
answering (Tongbao's timeout ends each try), or refusing connections. The figure that matters is
the healthy endpoints' p99, created to delivered, in both runs and their ratio.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from rich.table import Table

from tongbao.container import Container
from tongbao.harness.deployment import Deployment, Layout
from tongbao.harness.processes import free_port
from tongbao.harness.receiver import Behaviour, Receiver
from tongbao.harness.tenant import Tenant
from tongbao.notify.events import record_event

from .load import Round
from .local import database_kind, local_deployment
from .report import round_figures

TICK_S = 0.1  # events are written in one transaction per tick
HANG_S = 3_600.0  # longer than any notify timeout: the endpoint never answers


class Kind(StrEnum):
    HEALTHY = "healthy"
    SLOW = "slow"
    HANG = "hang"
    REFUSED = "refused"


DEGRADED_KINDS = (Kind.SLOW, Kind.HANG, Kind.REFUSED)


@dataclass(frozen=True)
class Options:
    endpoints: int = 30
    degraded_share: float = 0.1
    rate_per_s: float = 100.0
    duration_s: float = 10.0
    wait_s: float = 30.0  # how long a run waits for its last healthy deliveries
    slow_s: float = 2.0
    warmup_s: float = 2.0

    def degraded_count(self) -> int:
        return max(1, round(self.endpoints * self.degraded_share)) if self.degraded_share > 0 else 0


@dataclass(frozen=True)
class Endpoint:
    name: str
    tenant: Tenant
    url: str
    degraded_as: Kind  # what it is in the degraded run


@dataclass
class RunFigures:
    name: str
    offered: int
    healthy: Round  # created-to-delivered latencies of the healthy endpoints' events
    delivered: Counter[str] = field(default_factory=Counter)  # first arrivals, by endpoint kind
    sent: Counter[str] = field(default_factory=Counter)

    def figures(self) -> dict[str, Any]:
        figures = round_figures(self.healthy)
        del figures["concurrency"]
        figures.update(
            run=self.name,
            notifications_per_s=figures.pop("per_s"),
            offered=self.offered,
            sent_by_kind=dict(self.sent),
            delivered_by_kind=dict(self.delivered),
        )
        return figures


def _event_data(number: int, tag: str) -> dict[str, Any]:
    # The shape of a payment as notifications carry it, enough for a merchant to tell them apart.
    return {
        "id": f"pay_bench_{tag}_{number}",
        "object": "payment",
        "out_trade_no": f"notify-{tag}-{number}",
        "status": "succeeded",
        "amount": 100,
        "currency": "CNY",
    }


async def _offer(
    c: Container, endpoints: Sequence[Endpoint], urls: Sequence[str], options: Options, duration_s: float
) -> tuple[dict[str, tuple[int, float]], float]:
    """Writes events at the rate, round-robin over the endpoints; event id -> (endpoint, committed at)."""
    committed: dict[str, tuple[int, float]] = {}
    tag = secrets.token_hex(4)
    start = time.monotonic()
    number = 0
    ticks = max(1, round(duration_s / TICK_S))
    for tick in range(ticks):
        due = round(options.rate_per_s * TICK_S * (tick + 1)) - number
        batch: list[tuple[str, int]] = []
        async with c.uow() as tx:
            now = c.clock.now()
            for _ in range(due):
                index = number % len(endpoints)
                tenant = endpoints[index].tenant
                event = await record_event(
                    tx,
                    type="payment.succeeded",
                    merchant_id=tenant.merchant_id,
                    app_id=tenant.app_id,
                    data=_event_data(number, tag),
                    notify_url=urls[index],
                    now=now,
                )
                batch.append((event.id, index))
                number += 1
            await tx.commit()
        at = time.monotonic()
        committed.update((event_id, (index, at)) for event_id, index in batch)
        await asyncio.sleep(max(0.0, start + TICK_S * (tick + 1) - time.monotonic()))
    return committed, start


async def _collect(
    receiver: Receiver, committed: dict[str, tuple[int, float]], healthy: set[int], wait_s: float
) -> dict[str, float]:
    """First arrival of each of this run's events, once every healthy endpoint's has come (or wait_s)."""
    want = sum(1 for index, _ in committed.values() if index in healthy)
    deadline = time.monotonic() + wait_s
    while True:
        arrived: dict[str, float] = {}
        for delivery in receiver.snapshot():
            if delivery.event_id in committed and delivery.event_id not in arrived:
                arrived[delivery.event_id] = delivery.at
        got = sum(1 for event_id in arrived if committed[event_id][0] in healthy)
        if got >= want or time.monotonic() > deadline:
            return arrived
        await asyncio.sleep(0.05)


def _set_behaviours(receiver: Receiver, endpoints: Sequence[Endpoint], degraded: bool, slow_s: float) -> None:
    for endpoint in endpoints:
        kind = endpoint.degraded_as if degraded else Kind.HEALTHY
        if kind is Kind.SLOW:
            receiver.behaviours[endpoint.name] = Behaviour(delay_s=slow_s)
        elif kind is Kind.HANG:
            receiver.behaviours[endpoint.name] = Behaviour(delay_s=HANG_S)
        else:
            receiver.behaviours[endpoint.name] = Behaviour()


async def _run(
    *,
    c: Container,
    receiver: Receiver,
    endpoints: Sequence[Endpoint],
    name: str,
    options: Options,
    duration_s: float,
) -> RunFigures:
    degraded = name == "degraded"
    _set_behaviours(receiver, endpoints, degraded, options.slow_s)
    kinds = [e.degraded_as if degraded else Kind.HEALTHY for e in endpoints]
    # A refusing endpoint is a port nobody listens on (a merchant's server that is down).
    urls = [
        f"http://127.0.0.1:{free_port()}/notify/{e.name}" if kind is Kind.REFUSED else e.url
        for e, kind in zip(endpoints, kinds, strict=True)
    ]
    committed, start = await _offer(c, endpoints, urls, options, duration_s)
    healthy = {i for i, kind in enumerate(kinds) if kind is Kind.HEALTHY}
    arrived = await _collect(receiver, committed, healthy, options.wait_s)
    latencies = [
        (arrived[event_id] - at) * 1000
        for event_id, (index, at) in committed.items()
        if index in healthy and event_id in arrived
    ]
    healthy_arrivals = [
        arrived[e] for e, (index, _) in committed.items() if index in healthy and e in arrived
    ]
    end = max(healthy_arrivals, default=time.monotonic())
    result = RunFigures(name, len(committed), Round(len(endpoints), end - start, latencies))
    result.sent.update(kinds[index].value for index, _ in committed.values())
    result.delivered.update(kinds[committed[event_id][0]].value for event_id in arrived)
    if missing := sum(1 for e, (i, _) in committed.items() if i in healthy and e not in arrived):
        result.healthy.errors[f"healthy endpoint not notified within {options.wait_s:.0f} s"] += missing
    return result


async def measure(
    deployment: Deployment, receiver: Receiver, endpoints: Sequence[Endpoint], options: Options
) -> list[RunFigures]:
    c = deployment.container()
    try:
        if options.warmup_s > 0:
            await _run(
                c=c,
                receiver=receiver,
                endpoints=endpoints,
                name="warm-up",
                options=options,
                duration_s=options.warmup_s,
            )
        runs = [
            await _run(
                c=c,
                receiver=receiver,
                endpoints=endpoints,
                name=name,
                options=options,
                duration_s=options.duration_s,
            )
            for name in ("baseline", "degraded")
        ]
    finally:
        await c.aclose()
    return runs


def ratio(runs: Sequence[RunFigures]) -> float:
    baseline, degraded = runs
    return round(degraded.healthy.p99_ms / baseline.healthy.p99_ms, 2) if baseline.healthy.p99_ms else 0.0


def summary(runs: Sequence[RunFigures], setup: dict[str, Any]) -> dict[str, Any]:
    baseline, degraded = runs
    return {
        "bench": "notify",
        "notifications_per_s": round(degraded.healthy.per_s, 1),
        "p50_ms": round(degraded.healthy.p50_ms, 1),
        "p99_ms": round(degraded.healthy.p99_ms, 1),
        "ratio": ratio(runs),
        "baseline_p50_ms": round(baseline.healthy.p50_ms, 1),
        "baseline_p99_ms": round(baseline.healthy.p99_ms, 1),
        "errors": baseline.healthy.error_count + degraded.healthy.error_count,
        **setup,
        "runs": [r.figures() for r in runs],
    }


def table(runs: Sequence[RunFigures], title: str) -> Table:
    t = Table(
        title=title,
        caption=f"healthy endpoints, created to delivered; p99 degraded / baseline = {ratio(runs):.2f}",
    )
    columns = ("run", "offered", "healthy/s", "p50 ms", "p99 ms", "healthy done", "slow done", "errors")
    for name in columns:
        t.add_column(name, justify="right")
    for r in runs:
        h = r.healthy
        errors = ", ".join(f"{kind} ×{count}" for kind, count in h.errors.most_common(3)) or "0"
        slow = f"{r.delivered[Kind.SLOW.value]}/{r.sent[Kind.SLOW.value]}" if r.sent[Kind.SLOW.value] else "-"
        t.add_row(
            r.name,
            str(r.offered),
            f"{h.per_s:.1f}",
            f"{h.p50_ms:.1f}",
            f"{h.p99_ms:.1f}",
            f"{h.completed}/{r.sent[Kind.HEALTHY.value]}",
            slow,
            errors,
        )
    return t


def run_local(layout: Layout, options: Options) -> tuple[list[RunFigures], dict[str, Any]]:
    names = [f"m{number:02d}" for number in range(options.endpoints)]
    receiver = Receiver(own_ports=names).start()
    try:
        with local_deployment(layout, receiver.url(names[0])) as deployment:
            tenants = deployment.add_tenants([receiver.url(name) for name in names])
            # Every tenth endpoint (spread out, not the first ones) is the degraded kind in turn.
            step = options.endpoints / options.degraded_count() if options.degraded_count() else 0
            degraded_at = {int(step * k + step / 2): k for k in range(options.degraded_count())}
            endpoints = []
            for number, (name, tenant) in enumerate(zip(names, tenants, strict=True)):
                receiver.secrets[name] = tenant.app_secret
                kind = DEGRADED_KINDS[degraded_at[number] % 3] if number in degraded_at else Kind.HEALTHY
                endpoints.append(Endpoint(name, tenant, receiver.url(name), kind))
            runs = asyncio.run(measure(deployment, receiver, endpoints, options))
            # Before the workers stop: their deliveries to the hanging endpoint end at once.
            receiver.stop()
            setup = {
                "database": database_kind(deployment.database_url),
                "job_workers": layout.job_workers,
                "endpoints": options.endpoints,
                "degraded": dict(
                    Counter(e.degraded_as.value for e in endpoints if e.degraded_as is not Kind.HEALTHY)
                ),
                "rate_per_s": options.rate_per_s,
                "duration_s": options.duration_s,
            }
    finally:
        receiver.stop()
    return runs, setup
