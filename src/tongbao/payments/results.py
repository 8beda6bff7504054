"""Applying what a channel says about an attempt, exactly once, whoever says it first.

Callbacks, janitor queries and closes all end here. The payment row is locked before its attempt
(a fixed order, so two appliers never deadlock), the states are checked, and the change, its
merchant notification and any exception case are written in one transaction. Hearing the same
result again changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tongbao.bootstrap import Container
from tongbao.cases.service import open_case
from tongbao.channels.base import OrderState, OrderStatus
from tongbao.jobs import queue
from tongbao.merchants.models import App
from tongbao.notify.events import record_event
from tongbao.payments import domain
from tongbao.payments.domain import AttemptStatus, PaymentStatus
from tongbao.payments.models import Payment, PaymentAttempt
from tongbao.payments.store import attempts_of, load_payment
from tongbao.payments.views import payment_public

CLOSE_ATTEMPT_JOB = "payment.close_attempt"


class Applied(StrEnum):
    SUCCEEDED = "succeeded"  # this result captured the payment
    FINISHED = "finished"  # the attempt closed or failed
    UNCHANGED = "unchanged"  # nothing new (a duplicate, or still open at the channel)
    EXCEPTION = "exception"  # recorded as an exception case for operators


@dataclass(frozen=True)
class ApplyResult:
    applied: Applied
    payment_status: str


async def notify_merchant(tx: AsyncSession, payment: Payment, event_type: str, now: Any) -> None:
    app = await tx.get(App, payment.app_id)
    assert app is not None
    attempts = await attempts_of(tx, payment.id)
    await record_event(
        tx,
        type=event_type,
        merchant_id=payment.merchant_id,
        app_id=payment.app_id,
        data=payment_public(payment, attempts, None),
        notify_url=payment.notify_url or app.notify_url,
        now=now,
        payment_id=payment.id,
    )


async def apply_status(c: Container, attempt_id: str, status: OrderStatus, source: str) -> ApplyResult:
    now = c.clock.now()
    async with c.uow() as tx:
        attempt = await tx.get(PaymentAttempt, attempt_id)
        if attempt is None:
            raise LookupError(attempt_id)
        payment = await load_payment(tx, attempt.payment_id, lock=True)
        attempt = await tx.get(PaymentAttempt, attempt_id, with_for_update=True, populate_existing=True)
        assert attempt is not None
        result = await _apply(tx, payment, attempt, status, source, now)
        await tx.commit()
    return result


async def _apply(
    tx: AsyncSession, payment: Payment, attempt: PaymentAttempt, status: OrderStatus, source: str, now: Any
) -> ApplyResult:
    evidence = {"source": source, "channel_result": dict(status.raw), "state": status.state.value}
    if status.channel_trade_no and not attempt.channel_trade_no:
        attempt.channel_trade_no = status.channel_trade_no
    if status.state is OrderState.SUCCEEDED:
        return await _succeeded(tx, payment, attempt, status, evidence, now)
    if status.state in (OrderState.CLOSED, OrderState.FAILED) and attempt.status == AttemptStatus.PENDING:
        target = AttemptStatus.CLOSED if status.state is OrderState.CLOSED else AttemptStatus.FAILED
        domain.check_attempt_transition(AttemptStatus(attempt.status), target)
        attempt.status = target.value
        attempt.finished_at = now
        attempt.updated_at = now
        if (
            target is AttemptStatus.FAILED
            and payment.method is not None
            and payment.status == PaymentStatus.PENDING
        ):
            payment.status = PaymentStatus.FAILED.value
            payment.closed_at = now
            payment.updated_at = now
        return ApplyResult(Applied.FINISHED, payment.status)
    return ApplyResult(Applied.UNCHANGED, payment.status)


async def _succeeded(
    tx: AsyncSession,
    payment: Payment,
    attempt: PaymentAttempt,
    status: OrderStatus,
    evidence: dict[str, Any],
    now: Any,
) -> ApplyResult:
    if attempt.status == AttemptStatus.SUCCEEDED:
        return ApplyResult(Applied.UNCHANGED, payment.status)  # a duplicate callback, or a query after it
    if status.amount != attempt.amount or status.currency != attempt.currency:
        await open_case(
            tx,
            kind="amount_mismatch",
            now=now,
            summary=(
                f"the channel reports {status.amount} {status.currency} paid for attempt {attempt.id}, "
                f"which asked for {attempt.amount} {attempt.currency}"
            ),
            evidence={**evidence, "expected": {"amount": attempt.amount, "currency": attempt.currency}},
            merchant_id=payment.merchant_id,
            payment_id=payment.id,
            attempt_id=attempt.id,
            severity="critical",
        )
        attempt.last_error = "amount_mismatch"
        attempt.updated_at = now
        return ApplyResult(Applied.EXCEPTION, payment.status)
    if attempt.status != AttemptStatus.PENDING or payment.status != PaymentStatus.PENDING:
        # Money captured where we did not expect it: a second capture, or a success after close.
        kind = "duplicate_payment" if payment.captured_attempt_id else "late_success"
        await open_case(
            tx,
            kind=kind,
            now=now,
            summary=f"attempt {attempt.id} was paid while payment {payment.id} is {payment.status}",
            evidence=evidence,
            merchant_id=payment.merchant_id,
            payment_id=payment.id,
            attempt_id=attempt.id,
            severity="critical",
        )
        return ApplyResult(Applied.EXCEPTION, payment.status)
    domain.check_attempt_transition(AttemptStatus.PENDING, AttemptStatus.SUCCEEDED)
    domain.check_payment_transition(PaymentStatus.PENDING, PaymentStatus.SUCCEEDED)
    attempt.status = AttemptStatus.SUCCEEDED.value
    attempt.paid_amount = status.amount
    attempt.last_error = None
    attempt.finished_at = now
    attempt.updated_at = now
    payment.status = PaymentStatus.SUCCEEDED.value
    payment.captured_attempt_id = attempt.id
    payment.channel = attempt.channel
    payment.channel_account_id = attempt.channel_account_id
    payment.account_mode = attempt.account_mode
    payment.channel_trade_no = status.channel_trade_no
    payment.succeeded_at = now
    payment.updated_at = now
    await tx.flush()
    await notify_merchant(tx, payment, "payment.succeeded", now)
    # Other attempts still open at their channels are closed so that the payer cannot pay twice.
    for other in await attempts_of(tx, payment.id):
        if other.id != attempt.id and other.status == AttemptStatus.PENDING:
            await queue.enqueue(
                tx, CLOSE_ATTEMPT_JOB, {"attempt_id": other.id}, now=now, dedupe_key=f"close:{other.id}"
            )
    return ApplyResult(Applied.SUCCEEDED, payment.status)
