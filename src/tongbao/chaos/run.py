"""One chaos run from start to verdict: the receiver, the deployment (two API processes, two
workers, three faulty simulators), the load and the kill rounds side by side, quiescence, the
checks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import httpx

from tongbao.channels.kinds import Channel
from tongbao.harness.deployment import Deployment, Layout
from tongbao.harness.receiver import Receiver
from tongbao.harness.tenant import Tenant
from tongbao.ledger.audit import audit

from . import invariants
from .invariants import ChannelOrder, Violation
from .killer import Killer, KillRecord
from .load import Load, LoadResult, Payer, channel_order_no
from .merchant import Merchant
from .plan import CHANNEL_TIMEOUT_S, ChaosPlan, make_plan
from .records import Records, read_records
from .settle import Settled, settle

API_PROCESSES: Final = 2
JOB_WORKERS: Final = 2
# A killed worker's jobs wait out its lease before another worker takes them; a short lease keeps
# the run short. The same holds for a killed API process's Idempotency-Keys.
JOB_LEASE_S: Final = 15
SETTLE_LIMIT_S: Final = 240.0


@dataclass(frozen=True)
class Options:
    database_url: str
    workdir: Path
    rounds: int
    seed: int
    payments: int

    @property
    def load_s(self) -> float:
        return max(self.rounds * 3.0, self.payments / 8.0)


@dataclass
class Progress:
    """What the report shows while the run goes on."""

    phase: str = "starting"
    round: int = 0
    payments_done: int = 0
    kills: int = 0
    moving: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    options: Options
    plan: ChaosPlan
    load: LoadResult
    kills: list[KillRecord]
    settled: Settled
    records: Records
    deliveries: int
    duplicates_after_worker_kill: int
    violations: list[Violation]
    elapsed_s: float
    load_elapsed_s: float
    restarts: dict[str, int]
    merchant_retries: int
    transport_errors: int


def layout(plan: ChaosPlan) -> Layout:
    return Layout(
        api_processes=API_PROCESSES,
        job_workers=JOB_WORKERS,
        channels=tuple(Channel),
        faults=plan.faults,
        extra_env={
            "TONGBAO_CHANNEL_TIMEOUT_S": str(CHANNEL_TIMEOUT_S),
            "TONGBAO_NOTIFY_TIMEOUT_S": "5",
            "TONGBAO_JOB_LEASE_S": str(JOB_LEASE_S),
            "TONGBAO_IDEMPOTENCY_IN_PROGRESS_S": str(JOB_LEASE_S),
        },
    )


def run_chaos(options: Options, progress: Progress, refresh: Callable[[], None]) -> Outcome:
    plan = make_plan(
        options.seed,
        options.payments,
        options.rounds,
        load_s=options.load_s,
        apis=API_PROCESSES,
        workers=JOB_WORKERS,
    )
    receiver = Receiver().start()
    deployment = Deployment(options.database_url, options.workdir, layout(plan), receiver.url("merchant"))
    begin = time.monotonic()
    try:
        tenant = deployment.start()
        receiver.secrets["merchant"] = tenant.app_secret
        run = _Run(options, plan, deployment, receiver, tenant, progress, refresh, begin)
        return asyncio.run(run.drive())
    finally:
        deployment.close()
        receiver.stop()


@dataclass
class _Run:
    options: Options
    plan: ChaosPlan
    deployment: Deployment
    receiver: Receiver
    tenant: Tenant
    progress: Progress
    refresh: Callable[[], None]
    begin: float

    async def drive(self) -> Outcome:
        options, plan, deployment, receiver = self.options, self.plan, self.deployment, self.receiver
        tenant, progress, refresh, begin = self.tenant, self.progress, self.refresh, self.begin
        merchant_id = tenant.merchant_id
        urls = {channel: deployment.simulator_url(channel) for channel in deployment.simulators}
        merchant = Merchant(deployment.base_urls, tenant.app_id, tenant.app_secret)
        payer = Payer(urls)
        load = Load(plan, merchant, payer, tenant.tag)
        killer = Killer(deployment, plan.kills)

        def on_payment() -> None:
            progress.payments_done = load.result.done
            refresh()

        def on_round(number: int) -> None:
            progress.round, progress.kills = number, len(killer.records)
            refresh()

        progress.phase = "load and kills"
        refresh()
        load_began = time.monotonic()
        try:
            result, kills = await asyncio.gather(load.run(on_payment), killer.run(on_round))
        finally:
            await merchant.aclose()
            await payer.aclose()
        load_elapsed = time.monotonic() - load_began
        for child in [*deployment.apis, *deployment.workers]:  # a round's restart may itself have died
            if not child.alive:
                progress.notes.append(f"{child.name} was dead after the load; started again")
                child.start()
        progress.phase = "waiting for quiescence"
        refresh()

        def on_look(still: dict[str, int]) -> None:
            progress.moving = still
            refresh()

        c = deployment.container()
        try:
            settled = await settle(c, merchant_id, urls, SETTLE_LIMIT_S, on_look)
            progress.phase = "checking"
            refresh()
            records = await read_records(c, merchant_id)
            ledger_problems = await audit(c)
        finally:
            await c.aclose()
        orders = await channel_orders(records, urls)
        deliveries = receiver.snapshot()
        violations = [
            *invariants.check_money(records, orders),
            *invariants.check_refunds(records),
            *invariants.check_jobs(records),
            *invariants.check_expiry(records),
        ]
        found, explained = invariants.check_notifications(records, deliveries, kills)
        violations += found
        violations += [Violation("merchant_api", problem) for problem in result.problems]
        violations += [Violation("ledger", problem) for problem in ledger_problems]
        if not settled.reached:
            still = ", ".join(f"{k} {v}" for k, v in settled.still.items())
            violations.append(
                Violation("quiescence", f"still moving after {settled.waited_s:.0f} s: {still}")
            )
        return Outcome(
            options,
            plan,
            result,
            kills,
            settled,
            records,
            len(deliveries),
            explained,
            violations,
            time.monotonic() - begin,
            load_elapsed,
            {child.name: child.starts - 1 for child in [*deployment.apis, *deployment.workers]},
            merchant.retries,
            merchant.transport_errors,
        )


async def channel_orders(records: Records, urls: Mapping[Channel, str]) -> dict[str, ChannelOrder]:
    """Every attempt as its simulator holds it, asked over the control API."""
    gate = asyncio.Semaphore(16)
    found: dict[str, ChannelOrder] = {}
    async with httpx.AsyncClient(timeout=10.0, trust_env=False) as http:

        async def one(attempt_id: str, method: str, channel: str) -> None:
            order = channel_order_no(method, {"channel_order_no": attempt_id})
            async with gate:
                response = await http.get(f"{urls[Channel(channel)]}/_control/orders/{order}")
            if response.status_code == 404:
                return
            response.raise_for_status()
            record: dict[str, Any] = response.json()
            found[attempt_id] = ChannelOrder(invariants.channel_paid(channel, record))

        await asyncio.gather(*(one(a.id, a.method, a.channel) for a in records.attempts))
    return found
