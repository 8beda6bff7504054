"""Asynchronous notifications: signed form POSTs to the trade's notify_url, retried on Alipay's schedule
until the merchant answers exactly ``success``; the base sender runs each delivery in the background."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Final
from urllib.parse import urlencode

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa

from tongbao.channels.alipay import protocol
from tongbao.clock import Clock

from ..base.sending import Delivery, NotificationSender
from ..faults import FaultInjector
from .state_models import Trade

ALIPAY_NOTIFY_SCHEDULE_S: Final[tuple[float, ...]] = tuple(float(s) for s in protocol.NOTIFY_RETRY_DELAYS_S)
_HEADERS: Final = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}


def _acknowledged(response: httpx.Response) -> bool:
    return response.content == b"success"


class Notifier(NotificationSender):
    keeps_answer = True

    def __init__(
        self,
        key: rsa.RSAPrivateKey,
        clock: Clock,
        faults: FaultInjector,
        schedule_s: Sequence[float] = ALIPAY_NOTIFY_SCHEDULE_S,
        timeout_s: float = 5.0,
    ) -> None:
        super().__init__(clock, faults, schedule_s, timeout_s, protocol.format_time)
        self._key = key

    def notify(self, trade: Trade) -> None:
        """Start delivering trade_status_sync for a paid trade; returns at once."""
        fate = self.fate()
        body = urlencode(self.params(trade, fate.amount_delta)).encode()
        self.deliver(
            fate, Delivery(trade.notify_url, body, trade.notifications, lambda: _HEADERS, _acknowledged)
        )

    def params(self, trade: Trade, amount_delta: int = 0) -> dict[str, str]:
        """The notification's parameters, signed (``sign`` and ``sign_type`` outside the signature)."""
        assert trade.gmt_payment is not None and trade.buyer_id is not None
        amount = trade.amount_text(amount_delta)
        params = {
            "notify_time": protocol.format_time(self._clock.now()),
            "notify_type": "trade_status_sync",
            "notify_id": secrets.token_hex(16),
            "app_id": trade.app_id,
            "auth_app_id": trade.app_id,
            "charset": protocol.CHARSET,
            "version": protocol.VERSION,
            "sign_type": protocol.SIGN_TYPE,
            "trade_no": trade.trade_no,
            "out_trade_no": trade.out_trade_no,
            "trade_status": trade.status,
            "total_amount": amount,
            "receipt_amount": amount,
            "invoice_amount": amount,
            "buyer_pay_amount": amount,
            "point_amount": "0.00",
            "subject": trade.subject,
            "buyer_id": trade.buyer_id,
            "seller_id": trade.seller_id,
            "gmt_create": protocol.format_time(trade.created_at),
            "gmt_payment": protocol.format_time(trade.gmt_payment),
            "fund_bill_list": protocol.biz_json([{"amount": amount, "fundChannel": "ALIPAYACCOUNT"}]),
        }
        return protocol.signed(self._key, params, notification=True)
