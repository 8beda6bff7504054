"""``tongbao bench e2e``: payments per second through the whole path, and how long a merchant waits.

Each client creates a signed ``wechat_native`` payment, then pays it as the payer would, in the
channel simulator (its control API); the simulator calls Tongbao back, and Tongbao notifies the
merchant (a local endpoint) with a signed ``payment.succeeded``. The clients do not wait for the
notification, so a worker that falls behind shows as a growing pay-to-notification latency rather
than as fewer payments offered. A round's throughput counts the payments fully notified, over the
time until the last of its notifications arrived (waited for, but not forever).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from rich.table import Table

from tongbao.channels.kinds import Channel
from tongbao.harness.deployment import Layout
from tongbao.harness.receiver import Receiver

from .load import OperationFailed, Round, run_round
from .local import database_kind, local_deployment
from .report import round_figures
from .signed import SignedClient

ENDPOINT = "e2e"


@dataclass(frozen=True)
class Target:
    """A running Tongbao to load: its API address(es), its WeChat Pay simulator, an app to pay as."""

    base_urls: Sequence[str]
    simulator_url: str
    app_id: str
    app_secret: str


@dataclass(frozen=True)
class Options:
    concurrencies: Sequence[int] = (8, 32)
    duration_s: float = 10.0
    max_payments: int = 2_000
    wait_s: float = 30.0  # how long a round waits for its last notifications
    amount_fen: int = 100


@dataclass
class E2ERound:
    """``notified`` holds the pay-to-notification latencies; ``creates`` the create calls' own."""

    notified: Round
    creates: Round
    paid: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    def figures(self) -> dict[str, Any]:
        figures = round_figures(self.notified)
        figures.update(
            payments_per_s=figures.pop("per_s"),
            created=self.creates.completed,
            paid=self.paid,
            notified=self.notified.completed,
            create_p50_ms=round(self.creates.p50_ms, 1),
            create_p99_ms=round(self.creates.p99_ms, 1),
            created_per_s=round(self.creates.per_s, 1),
        )
        return figures


class _Payer:
    """One round's operation: create, then pay at the simulator, noting when the payer paid."""

    def __init__(self, target: Target, notify_url: str, connections: int, options: Options) -> None:
        self.clients = [
            SignedClient(url, target.app_id, target.app_secret, connections) for url in target.base_urls
        ]
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        self.simulator = httpx.AsyncClient(base_url=target.simulator_url, limits=limits, timeout=30.0)
        self.notify_url = notify_url
        self.amount_fen = options.amount_fen
        self.tag = secrets.token_hex(4)
        self.paid_at: dict[str, float] = {}
        self.create_ms: list[float] = []

    async def __call__(self, number: int) -> None:
        client = self.clients[number % len(self.clients)]
        begin = time.perf_counter()
        answer = await client.post(
            "/v1/payments",
            {
                "out_trade_no": f"e2e-{self.tag}-{number}",
                "amount": self.amount_fen,
                "subject": "bench e2e",
                "method": "wechat_native",
                "notify_url": self.notify_url,
            },
        )
        self.create_ms.append((time.perf_counter() - begin) * 1000)
        order_no = answer["attempts"][-1]["channel_order_no"]
        paid_at = time.monotonic()
        try:
            response = await self.simulator.post("/_control/pay", json={"out_trade_no": order_no})
        except httpx.HTTPError as exc:
            raise OperationFailed(f"pay {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise OperationFailed(f"pay HTTP {response.status_code}")
        self.paid_at[answer["id"]] = paid_at

    async def aclose(self) -> None:
        for client in self.clients:
            await client.aclose()
        await self.simulator.aclose()


async def _await_notifications(
    receiver: Receiver, paid_at: dict[str, float], wait_s: float
) -> dict[str, Any]:
    """The first ``payment.succeeded`` of each paid payment, as it arrives, until all or ``wait_s``."""
    deadline = time.monotonic() + wait_s
    while True:
        found = {}
        for delivery in receiver.snapshot():
            payment_id = delivery.data.get("id")
            if (
                delivery.event_type == "payment.succeeded"
                and payment_id in paid_at
                and payment_id not in found
            ):
                found[payment_id] = delivery
        if len(found) == len(paid_at) or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.05)


async def measure_round(target: Target, receiver: Receiver, concurrency: int, options: Options) -> E2ERound:
    payer = _Payer(target, receiver.url(ENDPOINT), concurrency, options)
    try:
        start = time.monotonic()
        offered = await run_round(payer, concurrency, options.duration_s, options.max_payments)
        offered_end = time.monotonic()
        found = await _await_notifications(receiver, payer.paid_at, options.wait_s)
    finally:
        await payer.aclose()
    latencies = [(found[pid].at - paid) * 1000 for pid, paid in payer.paid_at.items() if pid in found]
    last = max((delivery.at for delivery in found.values()), default=offered_end)
    notified = Round(concurrency, max(last, offered_end) - start, latencies)
    notified.errors.update(offered.errors)
    if missing := len(payer.paid_at) - len(found):
        notified.errors[f"no notification within {options.wait_s:.0f} s"] += missing
    if unsigned := sum(1 for delivery in found.values() if not delivery.signed):
        notified.errors["notification not signed by the app"] += unsigned
    creates = Round(concurrency, offered.elapsed_s, payer.create_ms)
    return E2ERound(notified, creates, paid=len(payer.paid_at))


async def measure(target: Target, receiver: Receiver, options: Options) -> list[E2ERound]:
    return [await measure_round(target, receiver, c, options) for c in options.concurrencies]


def summary(rounds: Sequence[E2ERound], setup: dict[str, Any]) -> dict[str, Any]:
    top = max(rounds, key=lambda r: r.notified.per_s)
    return {
        "bench": "e2e",
        "payments_per_s": round(top.notified.per_s, 1),
        "p50_ms": round(top.notified.p50_ms, 1),
        "p99_ms": round(top.notified.p99_ms, 1),
        "errors": sum(r.notified.error_count for r in rounds),
        "best_concurrency": top.notified.concurrency,
        **setup,
        "rounds": [r.figures() for r in rounds],
    }


def table(rounds: Sequence[E2ERound], title: str) -> Table:
    t = Table(title=title, caption="latency: from the payer paying to the merchant holding the notification")
    columns = (
        "clients",
        "notified/s",
        "p50 ms",
        "p99 ms",
        "created/s",
        "create p99 ms",
        "notified",
        "errors",
    )
    for name in columns:
        t.add_column(name, justify="right")
    for r in rounds:
        n = r.notified
        errors = ", ".join(f"{kind} ×{count}" for kind, count in n.errors.most_common(3)) or "0"
        t.add_row(
            str(n.concurrency),
            f"{n.per_s:.1f}",
            f"{n.p50_ms:.1f}",
            f"{n.p99_ms:.1f}",
            f"{r.creates.per_s:.1f}",
            f"{r.creates.p99_ms:.1f}",
            f"{n.completed}/{r.paid}",
            errors,
        )
    return t


def run_against(target: Target, options: Options) -> tuple[list[E2ERound], dict[str, Any]]:
    """Against a Tongbao that is already running (``--base-url``)."""
    receiver = Receiver(secrets={ENDPOINT: target.app_secret}).start()
    try:
        rounds = asyncio.run(measure(target, receiver, options))
    finally:
        receiver.stop()
    return rounds, {"target": list(target.base_urls), "duration_s": options.duration_s}


def run_local(layout: Layout, options: Options) -> tuple[list[E2ERound], dict[str, Any]]:
    """Against Tongbao processes of its own, started here and stopped at the end."""
    receiver = Receiver().start()
    try:
        with local_deployment(layout, receiver.url(ENDPOINT)) as deployment:
            assert deployment.tenant is not None
            tenant = deployment.tenant
            receiver.secrets[ENDPOINT] = tenant.app_secret
            target = Target(
                deployment.base_urls,
                deployment.simulator_url(Channel.WECHATPAY),
                tenant.app_id,
                tenant.app_secret,
            )
            rounds = asyncio.run(measure(target, receiver, options))
            setup = {
                "database": database_kind(deployment.database_url),
                "api_processes": layout.api_processes,
                "api_workers": layout.api_workers,
                "job_workers": layout.job_workers,
                "duration_s": options.duration_s,
            }
    finally:
        receiver.stop()
    return rounds, setup
