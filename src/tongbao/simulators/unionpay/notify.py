"""Back notifies: signed form POSTs of a transaction's result to the order's ``backUrl``.

The gateway counts only HTTP 200 as delivered and otherwise re-sends on its schedule. Each delivery
runs as its own asyncio task, so the request that paid the order never waits for the merchant. The
HTTP client is created on first use (a mounted simulator gets no lifespan); ``aclose()`` cancels
pending retries and closes it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Sequence
from typing import Any

import httpx

from tongbao.channels.unionpay import protocol
from tongbao.clock import Clock

from ..faults import FaultInjector, FaultKind
from .models import Identity, Order


class BackNotifier:
    def __init__(
        self,
        identity: Identity,
        clock: Clock,
        faults: FaultInjector,
        schedule_s: Sequence[float] = protocol.NOTIFY_RETRY_DELAYS_S,
        timeout_s: float = 5.0,
    ) -> None:
        self._identity = identity
        self._clock = clock
        self._faults = faults
        self._schedule = tuple(float(delay) for delay in schedule_s)
        self._timeout_s = timeout_s
        self._client: httpx.AsyncClient | None = None
        self._client_loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def notify(self, order: Order) -> None:
        """Start delivering the result of a paid order; returns at once."""
        faults = self._faults.next("callback")
        wrong = faults.get(FaultKind.WRONG_AMOUNT)
        body = protocol.encode_form(self._identity.sign(order.result(wrong.param("delta") if wrong else 0)))
        if faults.get(FaultKind.LOST) is not None:
            order.notifies.append(self._entry(order, 0, 0, error="not sent: fault 'lost'"))
            return
        duplicate = faults.get(FaultKind.DUPLICATE)
        late = faults.get(FaultKind.DELAY) or faults.get(FaultKind.REORDER)
        delay_s = late.param("delay_s") if late else 0.0
        for copy in range(duplicate.param("copies") if duplicate else 1):
            self._spawn(self._deliver(order, body, delay_s, copy))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, order: Order, body: str, delay_s: float, copy: int) -> None:
        if delay_s:
            await asyncio.sleep(delay_s)
        for attempt, wait_s in enumerate((0.0, *self._schedule), start=1):
            if wait_s:
                await asyncio.sleep(wait_s)
            if await self._attempt(order, body, attempt, copy):
                return

    async def _attempt(self, order: Order, body: str, attempt: int, copy: int) -> bool:
        entry = self._entry(order, attempt, copy)
        headers = {"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"}
        try:
            response = await self._http().post(order.back_url, content=body, headers=headers)
        except Exception as exc:  # any failure to deliver counts as "not acknowledged"
            entry["error"] = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            order.notifies.append(entry)
            return False
        entry["status_code"] = response.status_code
        order.notifies.append(entry)
        return response.status_code == 200

    def _entry(self, order: Order, attempt: int, copy: int, error: str | None = None) -> dict[str, Any]:
        return {
            "time": protocol.format_time(self._clock.now()),
            "url": order.back_url,
            "attempt": attempt,
            "copy": copy,
            "status_code": None,
            "error": error,
        }

    def _http(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._client.is_closed or self._client_loop is not loop:
            self._client = httpx.AsyncClient(timeout=httpx.Timeout(self._timeout_s), trust_env=False)
            self._client_loop = loop
        return self._client

    async def wait_idle(self) -> None:
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def aclose(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._client is not None and self._client_loop is asyncio.get_running_loop():
            await self._client.aclose()
        self._client = None
        self._client_loop = None
