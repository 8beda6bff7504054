"""Barcode (face-to-face) payments: charge the payer's code now, wait while they confirm, cancel
when they do not.

The channel may answer "the payer is confirming" (Alipay 10003) or nothing clear at all. Then the
payment is polled every few seconds; when the wait is over it is cancelled at the channel — the
channel's own advice, since a cancel also reverses a charge that completed unseen — and closed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from tongbao.channels.base import ChannelAdapter, ChannelUnknownOutcome, OrderRequest, OrderState, OrderStatus
from tongbao.container import Container
from tongbao.jobs.payloads import schedule
from tongbao.jobs.queue import ClaimedJob
from tongbao.jobs.worker import RetryAt
from tongbao.merchants.models import ChannelAccount
from tongbao.payments.closing import close_payment
from tongbao.payments.domain import AttemptStatus
from tongbao.payments.job_payloads import PollBarcode
from tongbao.payments.models import PaymentAttempt
from tongbao.payments.results import apply_status

POLL_EVERY: Final = timedelta(seconds=5)
WAIT_AT_MOST: Final = timedelta(seconds=60)


async def charge_barcode(c: Container, adapter: ChannelAdapter, order: OrderRequest) -> None:
    """Charges now; a clear answer is applied at once, anything else is polled by the worker.
    Raises ChannelRejected for a definite refusal (the caller fails the payment)."""
    try:
        status = await adapter.charge(order)
    except ChannelUnknownOutcome:
        status = OrderStatus(order.order_no, OrderState.PAYING)
    if status.state in (OrderState.SUCCEEDED, OrderState.CLOSED, OrderState.FAILED):
        await apply_status(c, order.order_no, status, source="charge")
        return
    now = c.clock.now()
    async with c.uow() as tx:
        poll = PollBarcode(attempt_id=order.order_no, give_up_at=(now + WAIT_AT_MOST).isoformat())
        await schedule(tx, poll, now=now, run_at=now + POLL_EVERY)
        await tx.commit()


async def poll_barcode(c: Container, job: ClaimedJob) -> RetryAt | None:
    poll = PollBarcode.of(job)
    attempt_id = poll.attempt_id
    async with c.uow() as tx:
        attempt = await tx.get(PaymentAttempt, attempt_id)
        if attempt is None or attempt.status != AttemptStatus.PENDING:
            return None
        account = await tx.get(ChannelAccount, attempt.channel_account_id)
        assert account is not None
    adapter = c.channels.adapter(account.adapter_config())
    try:
        status = await adapter.query(attempt_id)
    except ChannelUnknownOutcome:
        status = OrderStatus(attempt_id, OrderState.PAYING)
    if status.state in (OrderState.SUCCEEDED, OrderState.CLOSED, OrderState.FAILED):
        await apply_status(c, attempt_id, status, source="query")
        return None
    now = c.clock.now()
    if now < datetime.fromisoformat(poll.give_up_at):
        return RetryAt(now + POLL_EVERY)
    # The payer did not confirm in time: cancel (which also reverses a charge we did not see).
    await adapter.cancel(attempt_id)
    await close_payment(c, attempt.payment_id, merchant_id=None, reason="barcode_timeout")
    return None
