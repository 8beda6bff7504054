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

from tongbao.channels.base import OrderState, OrderStatus
from tongbao.container import Container
from tongbao.db.retry import retrying
from tongbao.db.uow import publish
from tongbao.payments import domain
from tongbao.payments.captures import capture_payment, contradicted_capture, extra_capture, mismatched_capture
from tongbao.payments.domain import AttemptStatus, PaymentStatus
from tongbao.payments.models import Payment, PaymentAttempt
from tongbao.payments.store import load_payment, lock_attempt


class Applied(StrEnum):
    SUCCEEDED = "succeeded"  # this result captured the payment
    FINISHED = "finished"  # the attempt closed or failed
    UNCHANGED = "unchanged"  # nothing new (a duplicate, or still open at the channel)
    EXCEPTION = "exception"  # recorded as an exception case for operators


@dataclass(frozen=True)
class ApplyResult:
    applied: Applied
    payment_status: str


async def apply_status(c: Container, attempt_id: str, status: OrderStatus, source: str) -> ApplyResult:
    return await retrying(lambda: _apply_once(c, attempt_id, status, source))


async def _apply_once(c: Container, attempt_id: str, status: OrderStatus, source: str) -> ApplyResult:
    now = c.clock.now()
    async with c.uow() as tx:
        attempt = await tx.get(PaymentAttempt, attempt_id)
        if attempt is None:
            raise LookupError(attempt_id)
        if attempt.status != AttemptStatus.PENDING and (
            attempt.status == AttemptStatus.SUCCEEDED or status.state is not OrderState.SUCCEEDED
        ):
            # Final, and nothing in this result can change it (attempts never move back): a repeat
            # is answered without queueing for the payment's lock behind everyone else.
            payment = await load_payment(tx, attempt.payment_id)
            return ApplyResult(Applied.UNCHANGED, payment.status)
        payment = await load_payment(tx, attempt.payment_id, lock=True)
        attempt = await lock_attempt(tx, attempt_id)
        assert attempt is not None
        applied = await _apply(tx, payment, attempt, status, source=source, now=now)
        await tx.commit()  # the handlers of what it published run first (a case, a policy decision)
    if applied is Applied.EXCEPTION and payment.captured_attempt_id == attempt.id:
        applied = Applied.SUCCEEDED  # the merchant's policy let a late capture succeed
    return ApplyResult(applied, payment.status)


async def _apply(
    tx: AsyncSession, payment: Payment, attempt: PaymentAttempt, status: OrderStatus, *, source: str, now: Any
) -> Applied:
    evidence = {"source": source, "channel_result": dict(status.raw), "state": status.state.value}
    if status.channel_trade_no and not attempt.channel_trade_no:
        attempt.channel_trade_no = status.channel_trade_no
    if status.state is OrderState.SUCCEEDED:
        return await _succeeded(tx, payment, attempt, status, evidence=evidence, now=now)
    if status.state in (OrderState.CLOSED, OrderState.FAILED) and attempt.status == AttemptStatus.PENDING:
        target = AttemptStatus.CLOSED if status.state is OrderState.CLOSED else AttemptStatus.FAILED
        publish(tx, domain.finish_attempt(payment, attempt, target, now=now))
        return Applied.FINISHED
    return Applied.UNCHANGED


async def _succeeded(
    tx: AsyncSession,
    payment: Payment,
    attempt: PaymentAttempt,
    status: OrderStatus,
    *,
    evidence: dict[str, Any],
    now: Any,
) -> Applied:
    amount = status.amount
    matches = amount == attempt.amount and status.currency == attempt.currency
    if attempt.status == AttemptStatus.SUCCEEDED:
        return Applied.UNCHANGED  # a duplicate callback, or a query after it
    if not matches or amount is None:
        if attempt.status == AttemptStatus.MISMATCHED:
            return Applied.UNCHANGED  # the same mismatch heard again
        mismatched_capture(tx, payment, attempt, status, evidence=evidence, now=now)
        return Applied.EXCEPTION
    if attempt.status == AttemptStatus.MISMATCHED:
        # Once the channel has reported another amount, a later report of the right one does not
        # clear it (whichever came first, callback or query): an operator decides.
        contradicted_capture(tx, payment, attempt, status, evidence=evidence, now=now)
        return Applied.EXCEPTION
    if payment.captured_attempt_id is not None or payment.status != PaymentStatus.PENDING:
        # Money captured where we did not expect it: a second capture, or a success after close.
        extra_capture(tx, payment, attempt, amount=amount, evidence=evidence, now=now)
        return Applied.EXCEPTION
    # An attempt we had closed while the payment stayed open (the payer switched method, then paid
    # the first one after all) simply captures it.
    await capture_payment(
        tx,
        payment,
        attempt,
        amount=amount,
        channel_trade_no=status.channel_trade_no,
        now=now,
        evidence=evidence,
    )
    return Applied.SUCCEEDED
