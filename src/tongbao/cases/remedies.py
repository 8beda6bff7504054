"""What settles a capture case, by the merchant's policy or an operator: send the capture back to the
payer, or let the payment take it. Runs inside the caller's transaction, the payment row locked."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from tongbao.cases.domain import CaseKind, CaseStatus
from tongbao.cases.models import ExceptionCase
from tongbao.cases.service import record_action
from tongbao.payments.captures import capture_payment
from tongbao.payments.domain import PaymentStatus
from tongbao.payments.models import Payment, PaymentAttempt
from tongbao.refunds.domain import RefundKind
from tongbao.refunds.models import Refund
from tongbao.refunds.opening import open_refund

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
