"""Payment and refund notifications: signed, encrypted POSTs to the notify_url the merchant gave,
retried on WeChat's schedule until answered 200 or 204.

Payment callbacks take their fate from the plan's "callback" faults, refund callbacks from its
"refund_callback" faults; the base sender runs each delivery in the background.
"""

from __future__ import annotations

import secrets
import string
import uuid
from collections.abc import Sequence
from typing import Any, Final

import httpx

from tongbao.channels.wechatpay import protocol
from tongbao.clock import Clock

from ..base.sending import Delivery, Fate, NotificationSender
from ..faults import FaultInjector
from .gateway_wire import dumps
from .state_models import Merchant, Order, Refund
from .state_platform import PlatformIdentity

# WeChat's own schedule for unanswered callbacks; the first attempt is immediate.
WECHAT_CALLBACK_SCHEDULE_S: Final[tuple[float, ...]] = protocol.CALLBACK_RETRY_DELAYS_S
_NONCE_ALPHABET: Final = string.ascii_letters + string.digits
# event_type and summary of a refund callback, by the status the refund finished in.
REFUND_EVENTS: Final = {
    "SUCCESS": ("REFUND.SUCCESS", "退款成功"),
    "ABNORMAL": ("REFUND.ABNORMAL", "退款异常"),
    "CLOSED": ("REFUND.CLOSED", "退款关闭"),
}


def _acknowledged(response: httpx.Response) -> bool:
    return response.status_code in (200, 204)


class CallbackSender(NotificationSender):
    def __init__(
        self,
        platform: PlatformIdentity,
        clock: Clock,
        faults: FaultInjector,
        schedule_s: Sequence[float] = WECHAT_CALLBACK_SCHEDULE_S,
        timeout_s: float = 5.0,
    ) -> None:
        super().__init__(clock, faults, schedule_s, timeout_s, protocol.rfc3339)
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
        def headers() -> dict[str, str]:
            timestamp = str(int(self._clock.now().timestamp()))
            nonce = protocol.new_nonce()
            return {
                "Content-Type": "application/json",
                protocol.HEADER_TIMESTAMP: timestamp,
                protocol.HEADER_NONCE: nonce,
                protocol.HEADER_SIGNATURE: self._platform.sign(timestamp, nonce, body),
                protocol.HEADER_SERIAL: merchant.platform_serial(self._platform),
                protocol.HEADER_SIGNATURE_TYPE: protocol.SCHEME,
            }

        self.deliver(fate, Delivery(url, body, log, headers, _acknowledged))

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
