"""Payment notifications: signed, encrypted POSTs to the order's notify_url, retried on WeChat's schedule.

Each delivery runs as its own asyncio task, so the request that paid the order never waits for the
merchant. The HTTP client is created on first use (a simulator mounted inside another app gets no
lifespan of its own); ``aclose()`` cancels pending retries and closes the client.
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
from ..sending import NotificationSender
from .models import Merchant, Order
from .platform import PlatformIdentity
from .wire import dumps

# WeChat's own schedule for unanswered callbacks; the first attempt is immediate.
WECHAT_CALLBACK_SCHEDULE_S: Final[tuple[float, ...]] = protocol.CALLBACK_RETRY_DELAYS_S
_NONCE_ALPHABET: Final = string.ascii_letters + string.digits


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
        body = self._notification(order, merchant, fate.amount_delta)
        if fate.lost:
            order.callbacks.append(self._entry(order, 0, 0, error="not sent: fault 'lost'"))
            return
        self.send(fate, lambda attempt, copy: self._attempt(order, merchant, body, attempt, copy))

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
            response = await self.http().post(order.notify_url, content=body, headers=headers)
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
