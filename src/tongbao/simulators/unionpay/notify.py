"""Back notifies: signed form POSTs of a transaction's result to the order's ``backUrl``.

The gateway counts only HTTP 200 as delivered and otherwise re-sends on its schedule. Each delivery
runs as its own asyncio task, so the request that paid the order never waits for the merchant. The
HTTP client is created on first use (a mounted simulator gets no lifespan); ``aclose()`` cancels
pending retries and closes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tongbao.channels.unionpay import protocol
from tongbao.clock import Clock

from ..faults import FaultInjector
from ..sending import NotificationSender
from .models import Identity, Order


class BackNotifier(NotificationSender):
    def __init__(
        self,
        identity: Identity,
        clock: Clock,
        faults: FaultInjector,
        schedule_s: Sequence[float] = protocol.NOTIFY_RETRY_DELAYS_S,
        timeout_s: float = 5.0,
    ) -> None:
        super().__init__(clock, faults, schedule_s, timeout_s)
        self._identity = identity

    def notify(self, order: Order) -> None:
        """Start delivering the result of a paid order; returns at once."""
        fate = self.fate()
        body = protocol.encode_form(self._identity.sign(order.result(fate.amount_delta)))
        if fate.lost:
            order.notifies.append(self._entry(order, 0, 0, error="not sent: fault 'lost'"))
            return
        self.send(fate, lambda attempt, copy: self._attempt(order, body, attempt, copy))

    async def _attempt(self, order: Order, body: str, attempt: int, copy: int) -> bool:
        entry = self._entry(order, attempt, copy)
        headers = {"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"}
        try:
            response = await self.http().post(order.back_url, content=body, headers=headers)
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
