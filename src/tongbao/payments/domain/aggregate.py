"""The payment aggregate: the only code that changes a payment's or an attempt's money state.

Each method checks the transition, sets status, amounts and timestamps together, and returns the
events it caused; the caller publishes them in its transaction. The records are whatever holds a
payment's state (the ORM rows in practice): this module sees them through the protocols below and
imports nothing that does I/O.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol, TypedDict

from tongbao.events import DomainEvent
from tongbao.payments.domain.events import (
    AttemptFinished,
    CaptureContradicted,
    CaptureDuplicated,
    CaptureLate,
    CaptureMismatched,
    HoldReleased,
    PaymentClosed,
    PaymentFailed,
    PaymentRefunded,
    PaymentSucceeded,
)
from tongbao.payments.domain.rules import (
    AttemptStatus,
    PaymentStatus,
    UnderReview,
    check_attempt_transition,
    check_capture,
    check_payment_transition,
)


class PaymentRecord(Protocol):
    id: str
    merchant_id: str
    amount: int
    currency: str
    method: str | None
    status: str
    captured_attempt_id: str | None
    captured_amount: int | None
    refunded_amount: int
    channel: str | None
    channel_account_id: str | None
    account_mode: str | None
    channel_trade_no: str | None
    held_since: datetime | None
    succeeded_at: datetime | None
    closed_at: datetime | None
    updated_at: datetime


class AttemptRecord(Protocol):
    id: str
    payment_id: str
    method: str
    channel: str
    channel_account_id: str
    account_mode: str
    status: str
    amount: int
    currency: str
    channel_trade_no: str | None
    paid_amount: int | None
    last_error: str | None
    updated_at: datetime
    finished_at: datetime | None


def _move_attempt(attempt: AttemptRecord, target: AttemptStatus, now: datetime) -> None:
    check_attempt_transition(AttemptStatus(attempt.status), target)
    attempt.status = target.value
    attempt.finished_at = attempt.finished_at or now
    attempt.updated_at = now


def _move_payment(payment: PaymentRecord, target: PaymentStatus, now: datetime) -> None:
    check_payment_transition(PaymentStatus(payment.status), target)
    payment.status = target.value
    payment.updated_at = now


def _captured(attempt: AttemptRecord, target: AttemptStatus, amount: int | None, now: datetime) -> None:
    """The channel says this attempt's money was taken: a fact, whatever the payment makes of it."""
    _move_attempt(attempt, target, now)
    attempt.paid_amount = amount


class _CaptureFields(TypedDict):
    """What every capture event says (typed, so that an event missing one is a type error)."""

    at: datetime
    payment_id: str
    merchant_id: str
    attempt_id: str
    amount: int
    currency: str
    method: str
    channel: str
    channel_account_id: str
    account_mode: str
    evidence: dict[str, Any]


def _capture_fields(
    payment: PaymentRecord, attempt: AttemptRecord, amount: int, evidence: dict[str, Any], now: datetime
) -> _CaptureFields:
    return {
        "at": now,
        "payment_id": payment.id,
        "merchant_id": payment.merchant_id,
        "attempt_id": attempt.id,
        "amount": amount,
        "currency": attempt.currency,
        "method": attempt.method,
        "channel": attempt.channel,
        "channel_account_id": attempt.channel_account_id,
        "account_mode": attempt.account_mode,
        "evidence": evidence,
    }


def capture(
    payment: PaymentRecord,
    attempt: AttemptRecord,
    *,
    amount: int,
    channel_trade_no: str | None,
    now: datetime,
    late: bool = False,
    evidence: dict[str, Any] | None = None,
) -> list[DomainEvent]:
    """The payment takes this attempt's capture: on time from pending, ``late`` from closed or failed,
    or (the attempt being mismatched) an amount an operator accepted."""
    check_capture(PaymentStatus(payment.status), late)
    accepted = attempt.status == AttemptStatus.MISMATCHED
    if attempt.status != AttemptStatus.SUCCEEDED:
        _captured(attempt, AttemptStatus.SUCCEEDED, amount, now)
    attempt.last_error = None
    payment.status = PaymentStatus.SUCCEEDED.value
    payment.captured_attempt_id = attempt.id
    payment.captured_amount = amount
    payment.channel = attempt.channel
    payment.channel_account_id = attempt.channel_account_id
    payment.account_mode = attempt.account_mode
    payment.channel_trade_no = channel_trade_no or attempt.channel_trade_no
    payment.succeeded_at = now
    payment.closed_at = None
    payment.updated_at = now
    return [
        PaymentSucceeded(
            **_capture_fields(payment, attempt, amount, evidence or {}, now),
            late=late,
            accepted=accepted,
        )
    ]


def extra_capture(
    payment: PaymentRecord, attempt: AttemptRecord, *, amount: int, evidence: dict[str, Any], now: datetime
) -> list[DomainEvent]:
    """A capture the payment cannot simply take: a second one, or one after the payment ended. The
    attempt records it; the payment stays as it is until policy or an operator decides."""
    _captured(attempt, AttemptStatus.SUCCEEDED, amount, now)
    fields = _capture_fields(payment, attempt, amount, evidence, now)
    if payment.captured_attempt_id is not None:
        return [
            CaptureDuplicated(
                **fields, captured_by=payment.captured_attempt_id, payment_status=payment.status
            )
        ]
    return [CaptureLate(**fields, payment_status=payment.status)]


def hold_for_review(
    payment: PaymentRecord,
    attempt: AttemptRecord,
    *,
    amount: int | None,
    currency: str | None,
    channel_trade_no: str | None,
    evidence: dict[str, Any],
    now: datetime,
) -> list[DomainEvent]:
    """The channel captured another amount or currency than asked: the attempt is mismatched and the
    payment does not succeed, nor close, until its review ends."""
    _captured(attempt, AttemptStatus.MISMATCHED, amount, now)
    attempt.last_error = "amount_mismatch"
    payment.held_since = payment.held_since or now
    payment.updated_at = now
    return [
        CaptureMismatched(
            at=now,
            payment_id=payment.id,
            merchant_id=payment.merchant_id,
            attempt_id=attempt.id,
            amount=amount,
            currency=currency,
            expected_amount=attempt.amount,
            expected_currency=attempt.currency,
            method=attempt.method,
            channel=attempt.channel,
            channel_account_id=attempt.channel_account_id,
            account_mode=attempt.account_mode,
            channel_trade_no=channel_trade_no,
            evidence=evidence,
        )
    ]


def contradict(
    payment: PaymentRecord,
    attempt: AttemptRecord,
    *,
    amount: int,
    currency: str,
    evidence: dict[str, Any],
    now: datetime,
) -> list[DomainEvent]:
    """A mismatched attempt now reported with the amount asked for: nothing moves, the review hears it."""
    if attempt.status != AttemptStatus.MISMATCHED:
        return []
    fields = _capture_fields(payment, attempt, amount, evidence, now)
    fields["currency"] = currency  # what the channel reports, which may differ from the attempt's
    return [CaptureContradicted(**fields)]


def release_hold(payment: PaymentRecord, now: datetime) -> list[DomainEvent]:
    if payment.held_since is None:
        return []
    payment.held_since = None
    payment.updated_at = now
    return [HoldReleased(at=now, payment_id=payment.id, merchant_id=payment.merchant_id)]


def finish_attempt(
    payment: PaymentRecord,
    attempt: AttemptRecord,
    target: AttemptStatus,
    *,
    now: datetime,
    error: str | None = None,
) -> list[DomainEvent]:
    """An attempt closed or failed at its channel. A payment for one fixed method fails with it; at
    the cashier the payer may pick another method."""
    assert target in (AttemptStatus.CLOSED, AttemptStatus.FAILED), target
    _move_attempt(attempt, target, now)
    if error is not None:
        attempt.last_error = error
    events: list[DomainEvent] = [
        AttemptFinished(
            at=now,
            payment_id=payment.id,
            merchant_id=payment.merchant_id,
            attempt_id=attempt.id,
            status=target.value,
            error=attempt.last_error,
        )
    ]
    if (
        target is AttemptStatus.FAILED
        and payment.method is not None
        and payment.status == PaymentStatus.PENDING
    ):
        _move_payment(payment, PaymentStatus.FAILED, now)
        payment.closed_at = now
        events.append(
            PaymentFailed(
                at=now, payment_id=payment.id, merchant_id=payment.merchant_id, attempt_id=attempt.id
            )
        )
    return events


def close(payment: PaymentRecord, now: datetime) -> list[DomainEvent]:
    """Closes a pending payment nothing captured. One held for review stays open: money is at the
    channel under another amount, and an operator settles it."""
    if payment.held_since is not None:
        raise UnderReview()
    _move_payment(payment, PaymentStatus.CLOSED, now)
    payment.closed_at = now
    return [PaymentClosed(at=now, payment_id=payment.id, merchant_id=payment.merchant_id)]


def apply_refund(
    payment: PaymentRecord, *, refund_id: str, amount: int, currency: str, now: datetime
) -> list[DomainEvent]:
    """A refund of the payment's own capture succeeded: the payment is refunded in part or in full."""
    assert payment.captured_amount is not None
    refunded = payment.refunded_amount + amount
    after = refunded_status(payment.captured_amount, refunded)
    _move_payment(payment, after, now)
    payment.refunded_amount = refunded
    return [
        PaymentRefunded(
            at=now,
            payment_id=payment.id,
            merchant_id=payment.merchant_id,
            refund_id=refund_id,
            amount=amount,
            currency=currency,
            refunded_amount=refunded,
            status=after.value,
        )
    ]


def refunded_status(captured: int, refunded: int) -> PaymentStatus:
    """The payment's state given what its succeeded refunds add up to."""
    assert 0 <= refunded <= captured, (refunded, captured)
    if refunded == 0:
        return PaymentStatus.SUCCEEDED
    return PaymentStatus.REFUNDED if refunded == captured else PaymentStatus.REFUNDED_PARTIALLY
