"""How every simulator sends its channel's notifications: in the background, retried on the
channel's schedule until acknowledged, shaped by the callback faults of the plan.

Each channel says what a notification looks like and what counts as acknowledged; this module
owns the tasks, the retry loop, the log of attempts and the HTTP client (one per event loop, created
on first use, so a simulator mounted in another app works without a lifespan).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from tongbao.clock import Clock

from ..faults import FaultInjector, FaultKind

Attempt = Callable[[int, int], Awaitable[bool]]  # (attempt number, copy) -> acknowledged?


@dataclass(frozen=True)
class Fate:
    """What the plan's callback faults decided for one notification."""

    amount_delta: int
    lost: bool
    copies: int
    delay_s: float


@dataclass(frozen=True)
class Delivery:
    """One notification: where it goes, what it says, the log its attempts go to, the headers of
    each attempt (WeChat signs every attempt afresh) and what answer counts as acknowledged."""

    url: str
    body: bytes | str
    log: list[dict[str, Any]]
    headers: Callable[[], Mapping[str, str]]
    acknowledged: Callable[[httpx.Response], bool]


class NotificationSender:
    # Alipay's acknowledgement is the body "success", so its log keeps what the merchant answered.
    keeps_answer = False

    def __init__(
        self,
        clock: Clock,
        faults: FaultInjector,
        schedule_s: Sequence[float],
        timeout_s: float,
        stamp: Callable[[datetime], str],
    ) -> None:
        self._clock = clock
        self._stamp = stamp
        self._faults = faults
        self._schedule = tuple(float(delay) for delay in schedule_s)
        self._timeout_s = timeout_s
        self._client: httpx.AsyncClient | None = None
        self._client_loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        # When each delivery waiting between attempts tries again (the loop's clock), by delivery.
        self._retry_at: dict[object, float] = {}

    def fate(self, endpoint: str = "callback") -> Fate:
        """What the plan does to the next callback; refund callbacks draw on "refund_callback", so a
        plan can lose or repeat one kind without the other."""
        faults = self._faults.next(endpoint)
        wrong = faults.get(FaultKind.WRONG_AMOUNT)
        duplicate = faults.get(FaultKind.DUPLICATE)
        late = faults.get(FaultKind.DELAY) or faults.get(FaultKind.REORDER)
        return Fate(
            amount_delta=wrong.param("delta") if wrong else 0,
            lost=faults.get(FaultKind.LOST) is not None,
            copies=duplicate.param("copies") if duplicate else 1,
            delay_s=late.param("delay_s") if late else 0.0,
        )

    def deliver(self, fate: Fate, delivery: Delivery) -> None:
        """Starts sending ``delivery`` as ``fate`` says, each attempt logged; returns at once."""
        if fate.lost:
            delivery.log.append(self._entry(delivery.url, 0, 0, error="not sent: fault 'lost'"))
            return
        self.send(fate, lambda attempt, copy: self._post(delivery, attempt, copy))

    async def _post(self, delivery: Delivery, attempt: int, copy: int) -> bool:
        entry = self._entry(delivery.url, attempt, copy)
        try:
            response = await self.http().post(delivery.url, content=delivery.body, headers=delivery.headers())
        except Exception as exc:  # any failure to deliver counts as "not acknowledged"
            entry["error"] = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            delivery.log.append(entry)
            return False
        entry["status_code"] = response.status_code
        if self.keeps_answer:
            entry["answer"] = response.text[:100]
        delivery.log.append(entry)
        return delivery.acknowledged(response)

    def _entry(self, url: str, attempt: int, copy: int, error: str | None = None) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "time": self._stamp(self._clock.now()),
            "url": url,
            "attempt": attempt,
            "copy": copy,
            "status_code": None,
        }
        if self.keeps_answer:
            entry["answer"] = None
        entry["error"] = error
        return entry

    def send(self, fate: Fate, attempt: Attempt) -> None:
        """Starts ``fate.copies`` deliveries, each retried on the schedule; returns at once."""
        for copy in range(fate.copies):
            task = asyncio.get_running_loop().create_task(self._deliver(fate.delay_s, copy, attempt))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def after(self, delay_s: float, action: Callable[[], None]) -> None:
        """Run ``action`` in ``delay_s``, in the background like a delivery: ``wait_idle`` waits for
        it and ``aclose`` cancels it."""

        async def run(attempt: int, copy: int) -> bool:
            action()
            return True

        self.send(Fate(amount_delta=0, lost=False, copies=1, delay_s=delay_s), run)

    async def _deliver(self, delay_s: float, copy: int, attempt: Attempt) -> None:
        if delay_s:
            await asyncio.sleep(delay_s)
        token = object()
        loop = asyncio.get_running_loop()
        for number, wait_s in enumerate((0.0, *self._schedule), start=1):
            if wait_s:
                self._retry_at[token] = loop.time() + wait_s
                try:
                    await asyncio.sleep(wait_s)
                finally:
                    self._retry_at.pop(token, None)
            if await attempt(number, copy):
                return

    def http(self) -> httpx.AsyncClient:
        # A client belongs to the loop it first ran on; a simulator reused on another loop gets a new one.
        loop = asyncio.get_running_loop()
        if self._client is None or self._client.is_closed or self._client_loop is not loop:
            self._client = httpx.AsyncClient(timeout=httpx.Timeout(self._timeout_s), trust_env=False)
            self._client_loop = loop
        return self._client

    @property
    def pending(self) -> int:
        return len(self._tasks)

    def retries_waiting(self) -> tuple[int, float | None]:
        """How many deliveries wait to try again after a failed attempt, and in how many seconds the
        first of them will."""
        if not self._retry_at:
            return 0, None
        return len(self._retry_at), max(0.0, min(self._retry_at.values()) - asyncio.get_running_loop().time())

    async def wait_idle(self) -> None:
        """Until every delivery started so far has finished (acknowledged or given up)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def aclose(self) -> None:
        """Cancels pending deliveries and retries, then closes the HTTP client."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._client is not None and self._client_loop is asyncio.get_running_loop():
            await self._client.aclose()
        self._client = None
        self._client_loop = None
