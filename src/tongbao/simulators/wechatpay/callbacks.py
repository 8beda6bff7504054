"""Payment notifications: signed, encrypted POSTs to the order's notify_url, retried on WeChat's schedule.

Each delivery runs as its own asyncio task, so the request that paid the order never waits for the
merchant. The HTTP client is created on first use (a simulator mounted inside another app gets no
lifespan of its own); ``aclose()`` cancels pending retries and closes the client.
"""

from __future__ import annotations

import asyncio
import secrets
import string
import uuid
from collections.abc import Coroutine, Sequence
from typing import Any, Final

import httpx

from tongbao.channels.wechatpay import protocol
from tongbao.clock import Clock

from ..faults import FaultInjector, FaultKind
from .models import Merchant, Order
from .platform import PlatformIdentity
from .wire import dumps

# WeChat's own schedule for unanswered callbacks; the first attempt is immediate.
WECHAT_CALLBACK_SCHEDULE_S: Final[tuple[float, ...]] = protocol.CALLBACK_RETRY_DELAYS_S
_NONCE_ALPHABET: Final = string.ascii_letters + string.digits


class CallbackSender:
    def __init__(
        self,
        platform: PlatformIdentity,
        clock: Clock,
        faults: FaultInjector,
        schedule_s: Sequence[float] = WECHAT_CALLBACK_SCHEDULE_S,
        timeout_s: float = 5.0,
    ) -> None:
        self._platform = platform
        self._clock = clock
        self._faults = faults
        self._schedule = tuple(float(delay) for delay in schedule_s)
        self._timeout_s = timeout_s
        self._client: httpx.AsyncClient | None = None
        self._client_loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def notify(self, order: Order, merchant: Merchant) -> None:
        """Start delivering TRANSACTION.SUCCESS for a paid order; returns at once."""
        faults = self._faults.next("callback")
        wrong = faults.get(FaultKind.WRONG_AMOUNT)
        body = self._notification(order, merchant, wrong.param("delta") if wrong else 0)
        lost = faults.get(FaultKind.LOST)
        if lost is not None:
            order.callbacks.append(self._entry(order, 0, 0, error="not sent: fault 'lost'"))
            return
        duplicate = faults.get(FaultKind.DUPLICATE)
        late = faults.get(FaultKind.DELAY) or faults.get(FaultKind.REORDER)
        delay_s = late.param("delay_s") if late else 0.0
        for copy in range(duplicate.param("copies") if duplicate else 1):
            self._spawn(self._deliver(order, merchant, body, delay_s, copy))

    def _notification(self, order: Order, merchant: Merchant, amount_delta: int) -> bytes:
        nonce = "".join(secrets.choice(_NONCE_ALPHABET) for _ in range(12))
        plaintext = dumps(order.transaction(amount_delta))
        return dumps(
            {
                "id": str(uuid.uuid4()),
                "create_time": protocol.rfc3339(self._clock.now()),
                "resource_type": "encrypt-resource",
                "event_type": "TRANSACTION.SUCCESS",
                "summary": "支付成功",
                "resource": {
                    "original_type": "transaction",
                    "algorithm": protocol.AEAD_ALGORITHM,
                    "ciphertext": protocol.encrypt(merchant.apiv3_key, nonce, "transaction", plaintext),
                    "associated_data": "transaction",
                    "nonce": nonce,
                },
            }
        )

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(
        self, order: Order, merchant: Merchant, body: bytes, delay_s: float, copy: int
    ) -> None:
        if delay_s:
            await asyncio.sleep(delay_s)
        for attempt, wait_s in enumerate((0.0, *self._schedule), start=1):
            if wait_s:
                await asyncio.sleep(wait_s)
            if await self._attempt(order, merchant, body, attempt, copy):
                return

    async def _attempt(self, order: Order, merchant: Merchant, body: bytes, attempt: int, copy: int) -> bool:
        timestamp = str(int(self._clock.now().timestamp()))
        nonce = protocol.new_nonce()
        headers = {
            "Content-Type": "application/json",
            protocol.HEADER_TIMESTAMP: timestamp,
            protocol.HEADER_NONCE: nonce,
            protocol.HEADER_SIGNATURE: self._platform.sign(timestamp, nonce, body),
            protocol.HEADER_SERIAL: merchant.platform_serial(self._platform),
            protocol.HEADER_SIGNATURE_TYPE: protocol.SCHEME,
        }
        entry = self._entry(order, attempt, copy)
        try:
            response = await self._http().post(order.notify_url, content=body, headers=headers)
        except Exception as exc:  # any failure to deliver counts as "not acknowledged"
            entry["error"] = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            order.callbacks.append(entry)
            return False
        entry["status_code"] = response.status_code
        order.callbacks.append(entry)
        return response.status_code in (200, 204)

    def _entry(self, order: Order, attempt: int, copy: int, error: str | None = None) -> dict[str, Any]:
        return {
            "time": protocol.rfc3339(self._clock.now()),
            "url": order.notify_url,
            "attempt": attempt,
            "copy": copy,
            "status_code": None,
            "error": error,
        }

    def _http(self) -> httpx.AsyncClient:
        # A client belongs to the loop it first ran on; a simulator reused on another loop gets a new one.
        loop = asyncio.get_running_loop()
        if self._client is None or self._client.is_closed or self._client_loop is not loop:
            self._client = httpx.AsyncClient(timeout=httpx.Timeout(self._timeout_s), trust_env=False)
            self._client_loop = loop
        return self._client

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def wait_idle(self) -> None:
        """Until every delivery started so far has finished (acknowledged or given up)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def aclose(self) -> None:
        """Cancel pending deliveries and retries, then close the HTTP client."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._client is not None and self._client_loop is asyncio.get_running_loop():
            await self._client.aclose()
        self._client = None
        self._client_loop = None
