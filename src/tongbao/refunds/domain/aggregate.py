"""The refund aggregate: the only code that changes a refund's state.

Each method checks the transition, sets status and timestamps, and returns the events it caused.
The payment's side of a succeeded refund is the payment aggregate's ``apply_refund``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol, TypedDict

from tongbao.events import DomainEvent
from tongbao.refunds.domain.events import (
    RefundAmountDisputed,
    RefundContested,
    RefundContestWithdrawn,
    RefundFailed,
    RefundOpened,
    RefundOverdue,
    RefundSucceeded,
    RefundSyncStopped,
)
from tongbao.refunds.domain.rules import RefundStatus, check_refund_correction, check_refund_transition


class RefundRecord(Protocol):
    id: str
    payment_id: str
    attempt_id: str
    merchant_id: str
    case_id: str | None
    kind: str
    amount: int
    currency: str
    channel: str
    channel_account_id: str
    status: str
    failure_reason: str | None
    last_error: str | None
    queries_done: int
    contested_at: datetime | None
    updated_at: datetime
    finished_at: datetime | None


class _Facts(TypedDict):
    """What every refund event says (typed, so that an event missing one is a type error)."""

    at: datetime
    refund_id: str
    payment_id: str
    attempt_id: str
    merchant_id: str
    case_id: str | None
    kind: str
    amount: int
    currency: str
    channel: str
    channel_account_id: str
    by: str
    evidence: dict[str, Any]


def _facts(refund: RefundRecord, now: datetime, by: str, evidence: dict[str, Any] | None) -> _Facts:
    return {
        "at": now,
        "refund_id": refund.id,
        "payment_id": refund.payment_id,
        "attempt_id": refund.attempt_id,
        "merchant_id": refund.merchant_id,
        "case_id": refund.case_id,
        "kind": refund.kind,
        "amount": refund.amount,
        "currency": refund.currency,
        "channel": refund.channel,
        "channel_account_id": refund.channel_account_id,
        "by": by,
        "evidence": evidence or {},
    }


def _finish(refund: RefundRecord, target: RefundStatus, now: datetime) -> None:
    check_refund_transition(RefundStatus(refund.status), target)
    refund.status = target.value
    refund.finished_at = now
    refund.updated_at = now


def opened(refund: RefundRecord, now: datetime) -> list[DomainEvent]:
    """A new refund, pending: what it commits of the capture is reserved from now on."""
    assert refund.status == RefundStatus.PENDING, refund.status
    return [RefundOpened(**_facts(refund, now, "channel", None))]


def succeed(
    refund: RefundRecord, now: datetime, *, by: str = "channel", evidence: dict[str, Any] | None = None
) -> list[DomainEvent]:
    _finish(refund, RefundStatus.SUCCEEDED, now)
    return [RefundSucceeded(**_facts(refund, now, by, evidence))]


def fail(
    refund: RefundRecord,
    reason: str,
    now: datetime,
    *,
    by: str = "channel",
    evidence: dict[str, Any] | None = None,
) -> list[DomainEvent]:
    _finish(refund, RefundStatus.FAILED, now)
    refund.failure_reason = reason[:500]
    return [RefundFailed(**_facts(refund, now, by, evidence), failure_reason=refund.failure_reason)]


def contest(refund: RefundRecord, now: datetime, evidence: dict[str, Any]) -> list[DomainEvent]:
    """A verified report that a refund recorded failed went back after all. Neither word is taken:
    it stays failed, and its amount is reserved again so that it cannot go back twice."""
    if refund.contested_at is not None:
        return []  # the same contradiction heard again
    refund.contested_at = now
    refund.updated_at = now
    return [RefundContested(**_facts(refund, now, "channel", evidence), failure_reason=refund.failure_reason)]


def settle_contest(refund: RefundRecord, *, succeeded: bool, now: datetime, by: str) -> list[DomainEvent]:
    """An operator's word on a contested refund: it did go back (the one correction of a final
    refund) or it did fail (its amount is free again)."""
    assert refund.contested_at is not None
    refund.contested_at = None
    refund.updated_at = now
    if not succeeded:
        return [RefundContestWithdrawn(**_facts(refund, now, by, None))]
    check_refund_correction(RefundStatus(refund.status), RefundStatus.SUCCEEDED)
    refund.status = RefundStatus.SUCCEEDED.value
    refund.failure_reason = None
    refund.finished_at = now
    return [RefundSucceeded(**_facts(refund, now, by, None), corrected=True)]


def dispute(
    refund: RefundRecord, reported: int, now: datetime, evidence: dict[str, Any]
) -> list[DomainEvent]:
    """A verified report of another amount going back: the refund stays pending (its amount reserved)."""
    refund.last_error = f"amount_mismatch: the channel reports {reported}"
    refund.updated_at = now
    return [RefundAmountDisputed(**_facts(refund, now, "channel", evidence), reported_amount=reported)]


def overdue(refund: RefundRecord, now: datetime) -> list[DomainEvent]:
    return [
        RefundOverdue(
            **_facts(refund, now, "channel", None),
            queries_done=refund.queries_done,
            last_error=refund.last_error,
        )
    ]


def sync_stopped(refund: RefundRecord, attempts: int, now: datetime) -> list[DomainEvent]:
    return [
        RefundSyncStopped(
            **_facts(refund, now, "channel", None),
            attempts=attempts,
            queries_done=refund.queries_done,
            last_error=refund.last_error,
        )
    ]
