"""Writing a new refund: the never-over-refund check under the payment's row lock, and its janitor job.

Every refund of a payment, the merchant's or Tongbao's own, is opened with the payment row locked
(the caller takes the lock), so concurrent requests are counted one after the other: the sum of a
capture's pending and succeeded refunds never exceeds what the capture took.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar, Final

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tongbao.db.uow import publish
from tongbao.ids import new_id
from tongbao.jobs.payloads import JobPayload, schedule
from tongbao.payments.models import Payment, PaymentAttempt
from tongbao.refunds import domain
from tongbao.refunds.domain import RefundKind, RefundStatus
from tongbao.refunds.models import Refund

# Hourly after the first quarter hour: about three weeks of asking before an operator must look.
SYNC_MAX_ATTEMPTS: Final = 500


def sync_key(refund_id: str) -> str:
    """The dedupe key of a refund's sync job: one janitor per refund."""
    return SyncRefund(refund_id).dedupe_key()


@dataclass(frozen=True)
class SyncRefund(JobPayload):
    """The janitor: submits a refund nobody submitted, else asks the channel, until it is final."""

    KIND: ClassVar[str] = "refund.sync"
    refund_id: str

    def dedupe_key(self) -> str:
        return f"refund:{self.refund_id}"


async def committed_on(tx: AsyncSession, attempt_id: str) -> int:
    """The sum of an attempt's pending, succeeded and contested refunds: money gone, on its way
    back, or that may have gone back."""
    total = await tx.scalar(
        select(func.coalesce(func.sum(Refund.amount), 0)).where(
            Refund.attempt_id == attempt_id,
            or_(
                Refund.status.in_((RefundStatus.PENDING.value, RefundStatus.SUCCEEDED.value)),
                Refund.contested_at.is_not(None),
            ),
        )
    )
    return int(total or 0)


async def refundable_of(tx: AsyncSession, payment: Payment) -> int:
    """What a new refund of the payment may still ask for: 0 until something is captured."""
    if payment.captured_attempt_id is None or payment.captured_amount is None:
        return 0
    return max(0, payment.captured_amount - await committed_on(tx, payment.captured_attempt_id))


@dataclass(frozen=True)
class MerchantAsked:
    """A merchant's refund request: whose, under which number, told where, and its fingerprint."""

    app_id: str
    out_refund_no: str
    notify_url: str | None
    fingerprint: str


async def open_refund(
    tx: AsyncSession,
    *,
    payment: Payment,
    attempt: PaymentAttempt,
    amount: int,
    kind: RefundKind,
    now: datetime,
    first_sync_in: timedelta = timedelta(0),
    reason: str | None = None,
    asked: MerchantAsked | None = None,
    case_id: str | None = None,
) -> Refund:
    """The caller holds the payment's row lock. Raises ``RefundProblem`` when the capture cannot take
    this refund. The sync job submits the refund if nobody has by ``first_sync_in``, then follows it."""
    captured = attempt.paid_amount or 0
    domain.check_refund_amount(amount, captured, await committed_on(tx, attempt.id))
    refund = Refund(
        id=new_id("refund"),
        payment_id=payment.id,
        attempt_id=attempt.id,
        merchant_id=payment.merchant_id,
        kind=kind.value,
        app_id=asked.app_id if asked else None,
        out_refund_no=asked.out_refund_no if asked else None,
        case_id=case_id,
        amount=amount,
        currency=attempt.currency,
        reason=reason,
        notify_url=asked.notify_url if asked else None,
        fingerprint=asked.fingerprint if asked else None,
        status=RefundStatus.PENDING.value,
        channel=attempt.channel,
        channel_account_id=attempt.channel_account_id,
        queries_done=0,
        created_at=now,
        updated_at=now,
    )
    tx.add(refund)
    await tx.flush()
    publish(tx, domain.opened(refund, now))
    await schedule(
        tx, SyncRefund(refund.id), now=now, run_at=now + first_sync_in, max_attempts=SYNC_MAX_ATTEMPTS
    )
    return refund
