"""Back notifies: signed form POSTs of a transaction's result (a payment's or a refund's) to its
``backUrl``.

The gateway counts only HTTP 200 as delivered and otherwise re-sends on its schedule. Each delivery
runs as its own asyncio task, so the request that paid the order never waits for the merchant. The
HTTP client is created on first use (a mounted simulator gets no lifespan); ``aclose()`` cancels
pending retries and closes it. Payment notifies take their fate from the plan's "callback" faults,
refund notifies from "refund_callback".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tongbao.channels.unionpay import protocol
from tongbao.clock import Clock

from ..faults import FaultInjector
from ..sending import Fate, NotificationSender
from .models import Identity, Order, Refund


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
        self._start(fate, order.back_url, order.notifies, body)

    def notify_refund(self, refund: Refund) -> None:
        """Start delivering the result of a settled refund; returns at once."""
        fate = self.fate("refund_callback")
        body = protocol.encode_form(self._identity.sign(refund.result(fate.amount_delta)))
        self._start(fate, refund.back_url, refund.notifies, body)

    def _start(self, fate: Fate, url: str, log: list[dict[str, Any]], body: str) -> None:
        if fate.lost:
            log.append(self._entry(url, 0, 0, error="not sent: fault 'lost'"))
            return
        self.send(fate, lambda attempt, copy: self._attempt(url, log, body, attempt, copy))

    async def _attempt(self, url: str, log: list[dict[str, Any]], body: str, attempt: int, copy: int) -> bool:
        entry = self._entry(url, attempt, copy)
        headers = {"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"}
        try:
            response = await self.http().post(url, content=body, headers=headers)
        except Exception as exc:  # any failure to deliver counts as "not acknowledged"
            entry["error"] = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            log.append(entry)
            return False
        entry["status_code"] = response.status_code
        log.append(entry)
        return response.status_code == 200

    def _entry(self, url: str, attempt: int, copy: int, error: str | None = None) -> dict[str, Any]:
        return {
            "time": protocol.format_time(self._clock.now()),
            "url": url,
            "attempt": attempt,
            "copy": copy,
            "status_code": None,
            "error": error,
        }
