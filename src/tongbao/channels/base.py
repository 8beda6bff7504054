"""The channel port: what the payment service asks of a channel, in Tongbao's own words.

Each adapter (``channels/wechatpay`` …) turns these intents into its channel's wire protocol and
its answers back into these DTOs; the service layer never sees a channel's field names. Errors say
what is *known*: ``ChannelUnknownOutcome`` (timeouts, 5xx, garbled answers) means the channel may or
may not have acted, so the caller must query later instead of concluding anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from tongbao.channels.kinds import Channel, Method


class OrderState(StrEnum):
    """An order's state as the channel reports it."""

    NOT_PAID = "not_paid"  # open, waiting for the payer
    PAYING = "paying"  # the payer is entering a password and so on
    SUCCEEDED = "succeeded"
    CLOSED = "closed"  # closed or revoked before payment
    FAILED = "failed"  # the payment attempt failed at the channel
    NOT_FOUND = "not_found"  # the channel never created it


@dataclass(frozen=True)
class OrderRequest:
    order_no: str  # the channel-side out_trade_no: one per attempt
    method: Method
    amount: int
    currency: str
    subject: str
    notify_url: str
    expires_at: datetime
    client_ip: str | None = None
    payer_openid: str | None = None
    return_url: str | None = None  # where page/wap/web pay methods send the payer back
    auth_code: str | None = None  # the payer's barcode, for barcode (face-to-face) payments


@dataclass(frozen=True)
class Action:
    """What the merchant's front end does next: show a QR code, redirect, invoke a wallet …"""

    type: str  # qr_code | redirect | form_post | jsapi | app | none
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OrderStatus:
    order_no: str
    state: OrderState
    channel_trade_no: str | None = None
    amount: int | None = None  # what the payer actually paid, when paid
    currency: str | None = None
    paid_at: datetime | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)  # the channel's decoded payload, as evidence


class RefundState(StrEnum):
    """A refund's state as the channel reports it."""

    PROCESSING = "processing"  # accepted, money not back yet: ask again later
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # final: abnormal (the payer's card is closed …) or closed by the channel
    NOT_FOUND = "not_found"  # the channel never received it: submitting it again is safe


@dataclass(frozen=True)
class RefundRequest:
    refund_no: str  # the channel-side refund number (out_refund_no, out_request_no, orderId)
    order_no: str  # the channel-side order number of the attempt whose capture goes back
    channel_trade_no: str | None  # the channel's number for that capture (UnionPay's origQryId)
    amount: int  # what goes back, in minor units
    order_amount: int  # what the order captured (WeChat wants both)
    currency: str
    notify_url: str  # where channels that notify about refunds send it
    reason: str | None = None


@dataclass(frozen=True)
class RefundResult:
    refund_no: str
    state: RefundState
    channel_refund_no: str | None = None
    amount: int | None = None
    failure_reason: str | None = None  # the channel's words, for FAILED
    refunded_at: datetime | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)  # the channel's decoded payload, as evidence


@dataclass(frozen=True)
class Reply:
    """What to answer a channel's callback with, in that channel's format."""

    status_code: int
    body: bytes
    media_type: str


class ChannelError(Exception):
    """Base of everything an adapter raises."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class ChannelUnknownOutcome(ChannelError):
    """Timeout, connection failure, 5xx or an unverifiable answer: the channel may have acted."""


class ChannelRejected(ChannelError):
    """A definite refusal (4xx with an error code): nothing was done at the channel."""


class OrderAlreadyPaid(ChannelRejected):
    pass


class NotificationRejected(ChannelError):
    """A callback that cannot be believed: bad signature, unknown serial, stale, undecryptable."""


class ChannelAdapter(Protocol):
    channel: Channel

    async def create(self, order: OrderRequest) -> Action: ...

    async def query(self, order_no: str) -> OrderStatus: ...

    async def close(self, order_no: str) -> None: ...

    async def charge(self, order: OrderRequest) -> OrderStatus:
        """Barcode payments: charge the payer's auth code now. The status may be PAYING (the payer
        is confirming on the phone), to be followed by queries and, on timeout, ``cancel``."""
        ...

    async def cancel(self, order_no: str) -> None:
        """Revokes an order whatever its state (barcode payments that did not complete in time)."""
        ...

    async def parse_notification(self, headers: Mapping[str, str], body: bytes) -> OrderStatus: ...

    async def refund(self, request: RefundRequest) -> RefundResult:
        """Asks the channel to send ``request.amount`` back. Submitting the same ``refund_no`` again
        is safe (the channels treat it as the same refund). ``ChannelRejected`` is a definite
        refusal (nothing will go back); ``ChannelUnknownOutcome`` means query later."""
        ...

    async def query_refund(self, request: RefundRequest) -> RefundResult: ...

    async def parse_refund_notification(self, headers: Mapping[str, str], body: bytes) -> RefundResult:
        """A refund-result callback, verified like a payment callback; channels that never send
        one raise ``NotificationRejected``."""
        ...

    def reply(self, accepted: bool, reason: str = "") -> Reply: ...
