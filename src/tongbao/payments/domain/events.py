"""What happened to a payment's money, as the payment aggregate reports it. Every event that moves
money (or that says money arrived where it was not expected) carries the amount and currency."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tongbao.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class PaymentEvent(DomainEvent):
    payment_id: str
    merchant_id: str


@dataclass(frozen=True, kw_only=True)
class CaptureEvent(PaymentEvent):
    """An attempt's capture at the channel, with the channel's own words as evidence."""

    attempt_id: str
    amount: int
    currency: str
    method: str
    channel: str
    channel_account_id: str
    account_mode: str
    evidence: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True, kw_only=True)
class PaymentSucceeded(CaptureEvent):
    """The payment took this capture: on time, ``late`` (after it had closed or failed), or
    ``accepted`` by an operator with another amount than asked."""

    late: bool = False
    accepted: bool = False


@dataclass(frozen=True, kw_only=True)
class CaptureDuplicated(CaptureEvent):
    """A second capture of a payment another attempt already captured: money the merchant does not own."""

    captured_by: str
    payment_status: str


@dataclass(frozen=True, kw_only=True)
class CaptureLate(CaptureEvent):
    """A capture of a payment that had closed or failed with nothing captured."""

    payment_status: str


@dataclass(frozen=True, kw_only=True)
class CaptureMismatched(PaymentEvent):
    """The channel captured another amount or currency than the attempt asked for; the payment is
    held for review. ``amount`` and ``currency`` are what the channel reports (None: it did not say)."""

    attempt_id: str
    amount: int | None
    currency: str | None
    expected_amount: int
    expected_currency: str
    method: str
    channel: str
    channel_account_id: str
    account_mode: str
    channel_trade_no: str | None
    evidence: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True, kw_only=True)
class CaptureContradicted(CaptureEvent):
    """A held attempt the channel now reports with the amount asked for (``amount``); both reports stand."""


@dataclass(frozen=True, kw_only=True)
class AttemptFinished(PaymentEvent):
    """An attempt closed or failed at its channel without capturing anything."""

    attempt_id: str
    status: str
    error: str | None


@dataclass(frozen=True, kw_only=True)
class PaymentFailed(PaymentEvent):
    """A payment for one fixed method failed with its attempt."""

    attempt_id: str


@dataclass(frozen=True, kw_only=True)
class PaymentClosed(PaymentEvent):
    """Closed with nothing captured, at the merchant's request or on expiry."""


@dataclass(frozen=True, kw_only=True)
class PaymentRefunded(PaymentEvent):
    """A refund of the payment's own capture succeeded: ``amount`` went back, ``refunded_amount`` in all."""

    refund_id: str
    amount: int
    currency: str
    refunded_amount: int
    status: str


@dataclass(frozen=True, kw_only=True)
class HoldReleased(PaymentEvent):
    """The review that held the payment ended (its case was decided)."""
