"""Back notifies: signed form POSTs of a transaction's result (a payment's or a refund's) to its
``backUrl``.

The gateway counts only HTTP 200 as delivered and otherwise re-sends on its schedule; the base sender
runs each delivery in the background. Payment notifies take their fate from the plan's "callback"
faults, refund notifies from "refund_callback".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import httpx

from tongbao.channels.unionpay import protocol
from tongbao.clock import Clock

from ..base.sending import Delivery, Fate, NotificationSender
from ..faults import FaultInjector
from .state_models import Identity, Order, Refund

_HEADERS: Final = {"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"}


def _acknowledged(response: httpx.Response) -> bool:
    return response.status_code == 200


class BackNotifier(NotificationSender):
    def __init__(
        self,
        identity: Identity,
        clock: Clock,
        faults: FaultInjector,
        schedule_s: Sequence[float] = protocol.NOTIFY_RETRY_DELAYS_S,
        timeout_s: float = 5.0,
    ) -> None:
        super().__init__(clock, faults, schedule_s, timeout_s, protocol.format_time)
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
        self.deliver(fate, Delivery(url, body, log, lambda: _HEADERS, _acknowledged))
