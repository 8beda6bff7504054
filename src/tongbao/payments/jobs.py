"""The worker's payment work: the unknown-state janitor, expiry, closing stray attempts."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from sqlalchemy import exists, literal, select

from tongbao.channels.base import ChannelUnknownOutcome, OrderState
from tongbao.container import Container
from tongbao.errors import ChannelUnavailable
from tongbao.jobs.models import Job
from tongbao.jobs.payloads import schedule
from tongbao.jobs.queue import ClaimedJob
from tongbao.jobs.worker import RetryAt
from tongbao.merchants.models import ChannelAccount
from tongbao.payments import domain
from tongbao.payments.closing import close_attempt, close_payment
from tongbao.payments.domain import AttemptStatus, PaymentStatus
from tongbao.payments.job_payloads import (
    EXPIRY_KEY_PREFIX,
    CloseAttempt,
    ExpirePayment,
    QueryAttempt,
)
from tongbao.payments.models import Payment, PaymentAttempt
from tongbao.payments.results import apply_status
from tongbao.payments.store import load_payment, lock_attempt

RETRY_CLOSE_AFTER: Final = timedelta(seconds=30)
RETRY_HELD_AFTER: Final = timedelta(minutes=10)
OPEN_TO_QUERY: Final = (AttemptStatus.PENDING, AttemptStatus.MISMATCHED)


async def query_attempt(c: Container, job: ClaimedJob) -> RetryAt | None:
    """Asks the channel about an attempt no callback has settled, on the janitor's ladder."""
    attempt_id = QueryAttempt.of(job).attempt_id
    async with c.uow() as tx:
        attempt = await tx.get(PaymentAttempt, attempt_id)
        # A mismatched capture is asked about too: the channel's query may contradict its callback.
        if attempt is None or attempt.status not in OPEN_TO_QUERY:
            return None
        payment = await load_payment(tx, attempt.payment_id)
        account = await tx.get(ChannelAccount, attempt.channel_account_id)
        assert account is not None
    error: str | None = None
    try:
        status = await c.channels.adapter(account.adapter_config()).query(attempt_id)
    except ChannelUnknownOutcome as exc:
        error = f"{exc.code}: {exc.message}"[:500]
    else:
        if status.state not in (OrderState.NOT_PAID, OrderState.PAYING, OrderState.NOT_FOUND):
            await apply_status(c, attempt_id, status, source="query")
    async with c.uow() as tx:
        row = await lock_attempt(tx, attempt_id)
        assert row is not None
        row.queries_done += 1
        if error is not None:
            row.last_error = error
        queries_done, still_pending = row.queries_done, row.status in OPEN_TO_QUERY
        await tx.commit()
    if not still_pending:
        return None
    at = domain.next_query_at(attempt.created_at, queries_done, payment.expires_at)
    return None if at is None else RetryAt(at)  # past expiry the expiry sweep takes over


async def expiry_sweep(c: Container, job: ClaimedJob) -> RetryAt | None:
    """Periodic: queues an expiry job for every pending payment past its time that has none.

    Each payment's expiry is queued with it, so this only catches what slipped through. Payments
    whose job exists (waiting for a channel, or held for review) are left out, so however many of
    them there are, they never fill the batch ahead of the ones that need it."""
    now = c.clock.now()
    has_job = exists().where(Job.dedupe_key == literal(EXPIRY_KEY_PREFIX) + Payment.id)
    async with c.uow() as tx:
        due = list(
            await tx.scalars(
                select(Payment.id)
                .where(Payment.status == PaymentStatus.PENDING.value, Payment.expires_at <= now, ~has_job)
                .order_by(Payment.expires_at)
                .limit(c.settings.expiry_sweep_batch)
            )
        )
        for payment_id in due:
            await schedule(tx, ExpirePayment(payment_id), now=now)
        await tx.commit()
    return None


async def expire_payment(c: Container, job: ClaimedJob) -> RetryAt | None:
    try:
        await close_payment(c, ExpirePayment.of(job).payment_id, merchant_id=None, reason="expired")
    except ChannelUnavailable:
        return RetryAt(c.clock.now() + RETRY_CLOSE_AFTER)
    except domain.UnderReview:
        # Held for an operator: expired as soon as the hold ends (the case decided), not before.
        return RetryAt(c.clock.now() + RETRY_HELD_AFTER)
    except domain.PaymentNotOpen:
        return None  # it succeeded or failed meanwhile: nothing to expire
    return None


async def close_stray_attempt(c: Container, job: ClaimedJob) -> RetryAt | None:
    """After a capture, the payment's other open attempts are closed so nobody pays twice."""
    attempt_id = CloseAttempt.of(job).attempt_id
    state = await close_attempt(c, attempt_id)
    async with c.uow() as tx:
        attempt = await tx.get(PaymentAttempt, attempt_id)
    if state is None and attempt is not None and attempt.status == AttemptStatus.PENDING:
        return RetryAt(c.clock.now() + RETRY_CLOSE_AFTER)
    return None
