"""Captures: a payment taking one, and the captures it cannot take (duplicate, late, mismatched).

``capture_payment`` is the one way a payment becomes succeeded: on time, late (a closed payment the
payer paid at the last second) or after an operator accepted another amount. Extra captures are
recorded on their attempt and become exception cases; the merchant's exception policy decides what
happens before anyone looks (``auto_refund``: give a duplicate back, let a late one succeed when
nothing else captured), and operators decide the rest through ``cases.decisions``. Everything here
runs inside the caller's transaction, with the payment row locked.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tongbao.cases.domain import CaseKind, CaseStatus, ExceptionPolicy
from tongbao.cases.models import CaseAction, ExceptionCase
from tongbao.cases.service import open_case, record_action
from tongbao.channels.base import OrderStatus
from tongbao.jobs import queue
from tongbao.merchants.models import App, Merchant
from tongbao.notify.events import record_event
from tongbao.payments import domain
from tongbao.payments.domain import AttemptStatus, PaymentStatus
from tongbao.payments.models import Payment, PaymentAttempt
from tongbao.payments.store import attempts_of
from tongbao.payments.views import payment_public
from tongbao.refunds.domain import RefundKind
from tongbao.refunds.models import Refund
from tongbao.refunds.opening import open_refund, refundable_of

CLOSE_ATTEMPT_JOB = "payment.close_attempt"
SYSTEM = "system"


async def notify_merchant(tx: AsyncSession, payment: Payment, event_type: str, now: datetime) -> None:
    app = await tx.get(App, payment.app_id)
    assert app is not None
    attempts = await attempts_of(tx, payment.id)
    await record_event(
        tx,
        type=event_type,
        merchant_id=payment.merchant_id,
        app_id=payment.app_id,
        data=payment_public(payment, attempts, None, refundable=await refundable_of(tx, payment)),
        notify_url=payment.notify_url or app.notify_url,
        now=now,
        payment_id=payment.id,
    )


def record_capture(attempt: PaymentAttempt, target: AttemptStatus, amount: int | None, now: datetime) -> None:
    """The channel says this attempt's money was taken: a fact, whatever the payment makes of it."""
    domain.check_attempt_transition(AttemptStatus(attempt.status), target)
    attempt.status = target.value
    attempt.paid_amount = amount
    attempt.finished_at = attempt.finished_at or now
    attempt.updated_at = now


async def capture_payment(
    tx: AsyncSession,
    payment: Payment,
    attempt: PaymentAttempt,
    *,
    amount: int,
    channel_trade_no: str | None,
    now: datetime,
    late: bool = False,
) -> None:
    """The payment takes this attempt's capture, tells the merchant, and closes its other attempts."""
    domain.check_capture(PaymentStatus(payment.status), late)
    if attempt.status != AttemptStatus.SUCCEEDED:
        record_capture(attempt, AttemptStatus.SUCCEEDED, amount, now)
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
    await tx.flush()
    await notify_merchant(tx, payment, "payment.succeeded", now)
    # Other attempts still open at their channels are closed so that the payer cannot pay twice.
    for other in await attempts_of(tx, payment.id):
        if other.id != attempt.id and other.status == AttemptStatus.PENDING:
            await queue.enqueue(
                tx, CLOSE_ATTEMPT_JOB, {"attempt_id": other.id}, now=now, dedupe_key=f"close:{other.id}"
            )


async def _policy(tx: AsyncSession, payment: Payment) -> ExceptionPolicy:
    merchant = await tx.get(Merchant, payment.merchant_id)
    assert merchant is not None
    return ExceptionPolicy(merchant.exception_policy)


async def extra_capture(
    tx: AsyncSession,
    payment: Payment,
    attempt: PaymentAttempt,
    amount: int,
    evidence: dict[str, Any],
    now: datetime,
) -> ExceptionCase:
    """A capture the payment cannot simply take: a second one, or one after the payment closed."""
    duplicate = payment.captured_attempt_id is not None
    kind = CaseKind.DUPLICATE_PAYMENT if duplicate else CaseKind.LATE_SUCCESS
    record_capture(attempt, AttemptStatus.SUCCEEDED, amount, now)
    case, opened = await open_case(
        tx,
        kind=kind.value,
        now=now,
        summary=(
            f"attempt {attempt.id} captured {amount} {attempt.currency} at {attempt.channel} while payment "
            f"{payment.id} is {payment.status}"
            + (f" (captured by {payment.captured_attempt_id})" if duplicate else "")
        ),
        evidence=evidence,
        merchant_id=payment.merchant_id,
        payment_id=payment.id,
        attempt_id=attempt.id,
        severity="critical",
    )
    if not opened or await _policy(tx, payment) is not ExceptionPolicy.AUTO_REFUND:
        return case
    if duplicate:
        await refund_capture(
            tx,
            case,
            payment,
            attempt,
            actor=SYSTEM,
            reason="merchant policy auto_refund: a second capture",
            now=now,
        )
    else:
        await reopen_payment(
            tx,
            case,
            payment,
            attempt,
            actor=SYSTEM,
            reason="merchant policy auto_refund: nothing else captured",
            now=now,
        )
    return case


async def mismatched_capture(
    tx: AsyncSession,
    payment: Payment,
    attempt: PaymentAttempt,
    reported: dict[str, Any],
    evidence: dict[str, Any],
    now: datetime,
) -> ExceptionCase:
    """The channel captured another amount or currency than asked: the payment does not succeed."""
    record_capture(attempt, AttemptStatus.MISMATCHED, reported["amount"], now)
    attempt.last_error = "amount_mismatch"
    case, _ = await open_case(
        tx,
        kind=CaseKind.AMOUNT_MISMATCH.value,
        now=now,
        summary=(
            f"the channel reports {reported['amount']} {reported['currency']} paid for attempt {attempt.id}, "
            f"which asked for {attempt.amount} {attempt.currency}"
        ),
        evidence={
            **evidence,
            "expected": {"amount": attempt.amount, "currency": attempt.currency},
            "reported": reported,
        },
        merchant_id=payment.merchant_id,
        payment_id=payment.id,
        attempt_id=attempt.id,
        severity="critical",
    )
    return case


async def contradicted_capture(
    tx: AsyncSession, attempt: PaymentAttempt, status: OrderStatus, evidence: dict[str, Any], now: datetime
) -> None:
    """A mismatched attempt the channel now reports with the amount asked for. Both reports are the
    channel's own, verified, so neither is believed over the other: the payment stays held and the
    case keeps both for an operator, who knows from the channel's statement which was right."""
    case = await tx.scalar(
        select(ExceptionCase).where(
            ExceptionCase.attempt_id == attempt.id, ExceptionCase.kind == CaseKind.AMOUNT_MISMATCH.value
        )
    )
    if case is None or case.status != CaseStatus.OPEN:
        return
    heard = await tx.scalar(
        select(CaseAction.id).where(
            CaseAction.case_id == case.id, CaseAction.action == "channel_contradicted"
        )
    )
    if heard is not None:
        return  # the same contradiction, asked about again
    await record_action(
        tx,
        case,
        action="channel_contradicted",
        actor=SYSTEM,
        reason=(
            f"the channel's {evidence.get('source')} now reports {status.amount} {status.currency}, the "
            "amount asked for; the payment stays held until an operator decides"
        ),
        now=now,
        detail={
            "amount": status.amount,
            "currency": status.currency,
            "source": evidence.get("source"),
            "channel_result": evidence.get("channel_result"),
        },
    )


# -- decisions (by policy or by an operator) ---------------------------------------------------------


# What the payer sees as the refund's reason at the channel.
REFUND_REASONS = {
    CaseKind.DUPLICATE_PAYMENT.value: "重复支付退款",
    CaseKind.LATE_SUCCESS.value: "订单已关闭，退回款项",
    CaseKind.AMOUNT_MISMATCH.value: "支付金额与订单不符，退回款项",
}

REFUND_KINDS = {
    CaseKind.DUPLICATE_PAYMENT.value: RefundKind.DUPLICATE_CAPTURE,
    CaseKind.LATE_SUCCESS.value: RefundKind.LATE_CAPTURE,
    CaseKind.AMOUNT_MISMATCH.value: RefundKind.AMOUNT_MISMATCH,
}


async def refund_capture(
    tx: AsyncSession,
    case: ExceptionCase,
    payment: Payment,
    attempt: PaymentAttempt,
    *,
    actor: str,
    reason: str,
    now: datetime,
) -> Refund:
    """Sends the whole of an extra capture back to the payer; the case resolves when the money is back."""
    assert attempt.paid_amount is not None
    refund = await open_refund(
        tx,
        payment=payment,
        attempt=attempt,
        amount=attempt.paid_amount,
        kind=REFUND_KINDS[case.kind],
        now=now,
        reason=REFUND_REASONS[case.kind],
        case_id=case.id,
    )
    case.refund_id = refund.id
    await record_action(
        tx,
        case,
        action="refund",
        actor=actor,
        reason=reason,
        now=now,
        detail={"refund_id": refund.id, "amount": refund.amount, "currency": refund.currency},
        resolution="refund_pending",
    )
    return refund


async def reopen_payment(
    tx: AsyncSession,
    case: ExceptionCase,
    payment: Payment,
    attempt: PaymentAttempt,
    *,
    actor: str,
    reason: str,
    now: datetime,
    amount: int | None = None,
) -> None:
    """The late (or accepted) capture becomes the payment's: the merchant is told it succeeded."""
    late = payment.status in (PaymentStatus.CLOSED, PaymentStatus.FAILED)
    captured = amount if amount is not None else attempt.paid_amount
    assert captured is not None
    await capture_payment(
        tx, payment, attempt, amount=captured, channel_trade_no=attempt.channel_trade_no, now=now, late=late
    )
    await record_action(
        tx,
        case,
        action="accept" if case.kind == CaseKind.AMOUNT_MISMATCH else "reopen",
        actor=actor,
        reason=reason,
        now=now,
        detail={"amount": captured, "currency": attempt.currency, "late": late},
        status=CaseStatus.RESOLVED,
        resolution="accepted" if case.kind == CaseKind.AMOUNT_MISMATCH else "reopened",
    )
