"""Writing a new refund: the never-over-refund check under the payment's row lock, and its janitor job.

Every refund of a payment, the merchant's or Tongbao's own, is opened with the payment row locked
(the caller takes the lock), so concurrent requests are counted one after the other: the sum of a
capture's pending and succeeded refunds never exceeds what the capture took.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tongbao.ids import new_id
from tongbao.jobs import queue
from tongbao.payments.models import Payment, PaymentAttempt
from tongbao.refunds import domain
from tongbao.refunds.domain import RefundKind, RefundStatus
from tongbao.refunds.models import Refund

SYNC_JOB: Final = "refund.sync"
# Hourly after the first quarter hour: about three weeks of asking before an operator must look.
SYNC_MAX_ATTEMPTS: Final = 500


async def committed_on(tx: AsyncSession, attempt_id: str) -> int:
    """The sum of an attempt's pending and succeeded refunds: money gone or on its way back."""
    total = await tx.scalar(
        select(func.coalesce(func.sum(Refund.amount), 0)).where(
            Refund.attempt_id == attempt_id,
            Refund.status.in_((RefundStatus.PENDING.value, RefundStatus.SUCCEEDED.value)),
        )
    )
    return int(total or 0)


async def open_refund(
    tx: AsyncSession,
    *,
    payment: Payment,
    attempt: PaymentAttempt,
    amount: int,
    kind: RefundKind,
    now: datetime,
    first_sync_in: timedelta = timedelta(0),
    app_id: str | None = None,
    out_refund_no: str | None = None,
    reason: str | None = None,
    notify_url: str | None = None,
    fingerprint: str | None = None,
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
        app_id=app_id,
        out_refund_no=out_refund_no,
        case_id=case_id,
        amount=amount,
        currency=attempt.currency,
        reason=reason,
        notify_url=notify_url,
        fingerprint=fingerprint,
        status=RefundStatus.PENDING.value,
        channel=attempt.channel,
        channel_account_id=attempt.channel_account_id,
        queries_done=0,
        created_at=now,
        updated_at=now,
    )
    tx.add(refund)
    await tx.flush()
    await queue.enqueue(
        tx,
        SYNC_JOB,
        {"refund_id": refund.id},
        now=now,
        run_at=now + first_sync_in,
        dedupe_key=f"refund:{refund.id}",
        max_attempts=SYNC_MAX_ATTEMPTS,
    )
    return refund
