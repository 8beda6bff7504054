"""Payment and refund notifications: signed, encrypted POSTs to the notify_url the merchant gave,
retried on WeChat's schedule.

Each delivery runs as its own asyncio task, so the request that paid the order never waits for the
merchant. Payment callbacks take their fate from the plan's "callback" faults, refund callbacks from
its "refund_callback" faults. The HTTP client is created on first use (a simulator mounted inside
another app gets no lifespan of its own); ``aclose()`` cancels pending retries and closes the client.
"""

from __future__ import annotations

import secrets
import string
import uuid
from collections.abc import Sequence
from typing import Any, Final

from tongbao.channels.wechatpay import protocol
from tongbao.clock import Clock

from ..faults import FaultInjector
from ..sending import Fate, NotificationSender
from .models import Merchant, Order, Refund
from .platform import PlatformIdentity
from .wire import dumps

# WeChat's own schedule for unanswered callbacks; the first attempt is immediate.
WECHAT_CALLBACK_SCHEDULE_S: Final[tuple[float, ...]] = protocol.CALLBACK_RETRY_DELAYS_S
_NONCE_ALPHABET: Final = string.ascii_letters + string.digits
# event_type and summary of a refund callback, by the status the refund finished in.
REFUND_EVENTS: Final = {
    "SUCCESS": ("REFUND.SUCCESS", "退款成功"),
    "ABNORMAL": ("REFUND.ABNORMAL", "退款异常"),
    "CLOSED": ("REFUND.CLOSED", "退款关闭"),
}


class CallbackSender(NotificationSender):
    def __init__(
        self,
        platform: PlatformIdentity,
        clock: Clock,
        faults: FaultInjector,
        schedule_s: Sequence[float] = WECHAT_CALLBACK_SCHEDULE_S,
        timeout_s: float = 5.0,
    ) -> None:
        super().__init__(clock, faults, schedule_s, timeout_s)
        self._platform = platform

    def notify(self, order: Order, merchant: Merchant) -> None:
        """Start delivering TRANSACTION.SUCCESS for a paid order; returns at once."""
        fate = self.fate()
        resource = order.transaction(fate.amount_delta)
        body = self._notification("TRANSACTION.SUCCESS", "支付成功", "transaction", resource, merchant)
        self._start(fate, order.notify_url, order.callbacks, merchant, body)

    def notify_refund(self, refund: Refund, merchant: Merchant) -> None:
        """Start delivering REFUND.SUCCESS / REFUND.ABNORMAL / REFUND.CLOSED for a finished refund."""
        if refund.notify_url is None:
            return
        fate = self.fate("refund_callback")
        event_type, summary = REFUND_EVENTS[refund.status]
        resource = refund.notification(fate.amount_delta)
        body = self._notification(event_type, summary, "refund", resource, merchant)
        self._start(fate, refund.notify_url, refund.callbacks, merchant, body)

    def _start(
        self, fate: Fate, url: str, log: list[dict[str, Any]], merchant: Merchant, body: bytes
    ) -> None:
        if fate.lost:
            log.append(self._entry(url, 0, 0, error="not sent: fault 'lost'"))
            return
        self.send(fate, lambda attempt, copy: self._attempt(url, log, merchant, body, attempt, copy))

    def _notification(
        self, event_type: str, summary: str, original_type: str, resource: Any, merchant: Merchant
    ) -> bytes:
        nonce = "".join(secrets.choice(_NONCE_ALPHABET) for _ in range(12))
        return dumps(
            {
                "id": str(uuid.uuid4()),
                "create_time": protocol.rfc3339(self._clock.now()),
                "resource_type": "encrypt-resource",
                "event_type": event_type,
                "summary": summary,
                "resource": {
                    "original_type": original_type,
                    "algorithm": protocol.AEAD_ALGORITHM,
                    "ciphertext": protocol.encrypt(merchant.apiv3_key, nonce, original_type, dumps(resource)),
                    "associated_data": original_type,
                    "nonce": nonce,
                },
            }
        )

    async def _attempt(
        self, url: str, log: list[dict[str, Any]], merchant: Merchant, body: bytes, attempt: int, copy: int
    ) -> bool:
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
        entry = self._entry(url, attempt, copy)
        try:
            response = await self.http().post(url, content=body, headers=headers)
        except Exception as exc:  # any failure to deliver counts as "not acknowledged"
            entry["error"] = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            log.append(entry)
            return False
        entry["status_code"] = response.status_code
        log.append(entry)
        return response.status_code in (200, 204)

    def _entry(self, url: str, attempt: int, copy: int, error: str | None = None) -> dict[str, Any]:
        return {
            "time": protocol.rfc3339(self._clock.now()),
            "url": url,
            "attempt": attempt,
            "copy": copy,
            "status_code": None,
            "error": error,
        }
