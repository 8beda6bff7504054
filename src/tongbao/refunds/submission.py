"""Talking to the channel about a refund: submitting it, and the janitor that follows it to the end.

No channel call happens inside a database transaction. A refund is written first with its sync job;
``submitted_at`` is set before the channel is first asked, so that from then on the janitor queries
instead of guessing. A channel that has never heard of a submitted refund (the request was lost) is
simply asked again: the channels treat a repeated refund number as the same refund.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from tongbao.channels.base import (
    ChannelAdapter,
    ChannelRejected,
    ChannelUnknownOutcome,
    RefundRequest,
    RefundResult,
    RefundState,
)
from tongbao.container import Container
from tongbao.db.uow import publish
from tongbao.jobs.queue import ClaimedJob
from tongbao.jobs.worker import RetryAt
from tongbao.merchants.models import ChannelAccount
from tongbao.payments.models import PaymentAttempt
from tongbao.refunds import domain
from tongbao.refunds.domain import RefundStatus
from tongbao.refunds.models import Refund
from tongbao.refunds.opening import SyncRefund
from tongbao.refunds.results import apply_refund_result
from tongbao.refunds.store import lock_refund

log = structlog.get_logger(__name__)


def refund_callback_url(c: Container, account: ChannelAccount) -> str:
    return f"{c.settings.public_base_url.rstrip('/')}/callbacks/{account.channel}/{account.id}/refunds"


@dataclass(frozen=True)
class _Call:
    adapter: ChannelAdapter
    request: RefundRequest


async def _prepare(c: Container, refund_id: str, *, submitting: bool) -> _Call | None:
    """Loads what a channel call needs; None once the refund is final. Marks it submitted if asked."""
    async with c.uow() as tx:
        refund = await (lock_refund(tx, refund_id) if submitting else tx.get(Refund, refund_id))
        if refund is None or refund.status != RefundStatus.PENDING:
            return None
        attempt = await tx.get(PaymentAttempt, refund.attempt_id)
        account = await tx.get(ChannelAccount, refund.channel_account_id)
        assert attempt is not None and account is not None
        if submitting and refund.submitted_at is None:
            refund.submitted_at = c.clock.now()
            await tx.commit()
    request = RefundRequest(
        refund_no=refund.id,
        order_no=attempt.id,
        channel_trade_no=attempt.channel_trade_no,
        amount=refund.amount,
        order_amount=attempt.paid_amount or attempt.amount,
        currency=refund.currency,
        notify_url=refund_callback_url(c, account),
        reason=refund.reason,
    )
    return _Call(c.channels.adapter(account.adapter_config()), request)


async def _record_error(c: Container, refund_id: str, error: str | None, *, queried: bool) -> Refund:
    async with c.uow() as tx:
        row = await lock_refund(tx, refund_id)
        assert row is not None
        if queried:
            row.queries_done += 1
        if error is not None:
            row.last_error = error[:500]
            row.updated_at = c.clock.now()
        await tx.commit()
    return row


async def submit_refund(c: Container, refund_id: str) -> None:
    """Asks the channel to send the money back and applies a definite answer; an unknown one is left
    to the janitor."""
    call = await _prepare(c, refund_id, submitting=True)
    if call is None:
        return
    try:
        result = await call.adapter.refund(call.request)
    except ChannelRejected as exc:
        result = RefundResult(
            refund_no=refund_id, state=RefundState.FAILED, failure_reason=f"{exc.code}: {exc.message}"
        )
    except ChannelUnknownOutcome as exc:
        log.warning("refund outcome unknown", refund_id=refund_id, code=exc.code)
        await _record_error(c, refund_id, f"{exc.code}: {exc.message}", queried=False)
        return
    await apply_refund_result(c, refund_id, result, source="submit")


async def sync_refund(c: Container, job: ClaimedJob) -> RetryAt | None:
    """The janitor: submits a refund nobody submitted, else asks the channel, until it is final.

    Its last allowed attempt, whatever happens in it, leaves the refund visibly stuck: the open
    case and an alert say the janitor stopped, and an operator's ``resume`` starts it again."""
    refund_id = SyncRefund.of(job).refund_id
    last = job.attempts >= min(job.max_attempts, c.settings.refund_sync_max_attempts)
    try:
        again = await _sync(c, refund_id)
    except Exception as exc:
        if not last:
            raise  # the worker backs off and runs it again
        log.warning("refund sync failed on its last attempt", refund_id=refund_id, error=repr(exc))
        await _record_error(c, refund_id, repr(exc), queried=False)
        again = RetryAt(c.clock.now())
    if again is not None and last:
        await _stopped(c, refund_id, job.attempts)
        return None
    return again


async def _sync(c: Container, refund_id: str) -> RetryAt | None:
    async with c.uow() as tx:
        refund = await tx.get(Refund, refund_id)
        if refund is None or refund.status != RefundStatus.PENDING:
            return None
        submitted = refund.submitted_at is not None
    if not submitted:
        await submit_refund(c, refund_id)
        error = None
    else:
        error = await _query(c, refund_id)
    row = await _record_error(c, refund_id, error, queried=submitted)
    if row.status != RefundStatus.PENDING:
        return None
    if row.queries_done == domain.REFUND_OVERDUE_AFTER_QUERIES:
        await _overdue(c, refund_id)
    return RetryAt(domain.next_refund_query_at(row.created_at, row.queries_done))


async def _overdue(c: Container, refund_id: str) -> None:
    async with c.uow() as tx:
        refund = await tx.get(Refund, refund_id)
        assert refund is not None
        publish(tx, domain.overdue(refund, c.clock.now()))
        await tx.commit()


async def _stopped(c: Container, refund_id: str, attempts: int) -> None:
    """The janitor's attempts are spent and the refund is still pending: operators are told."""
    async with c.uow() as tx:
        refund = await tx.get(Refund, refund_id)
        if refund is None or refund.status != RefundStatus.PENDING:
            return
        publish(tx, domain.sync_stopped(refund, attempts, c.clock.now()))
        await tx.commit()


async def _query(c: Container, refund_id: str) -> str | None:
    call = await _prepare(c, refund_id, submitting=False)
    if call is None:
        return None
    try:
        result = await call.adapter.query_refund(call.request)
    except ChannelUnknownOutcome as exc:
        return f"{exc.code}: {exc.message}"
    if result.state is RefundState.NOT_FOUND:
        log.warning("the channel does not know a submitted refund; submitting again", refund_id=refund_id)
        await submit_refund(c, refund_id)
        return None
    await apply_refund_result(c, refund_id, result, source="query")
    return None
