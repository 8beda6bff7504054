"""Applying what a channel says about a refund, exactly once, whoever says it first.

The submit's answer, the janitor's query and the channel's refund callback all end here. The payment
row is locked before the refund (the order every writer uses), the transition is checked, and the
change, the payment's new state, the merchant's notification and any exception case are written in
one transaction. Hearing the same result again changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tongbao.bootstrap import Container
from tongbao.cases.domain import CaseKind, CaseStatus
from tongbao.cases.models import ExceptionCase
from tongbao.cases.service import open_case, record_action
from tongbao.channels.base import RefundResult, RefundState
from tongbao.db.locks import lock_refund
from tongbao.db.retry import retrying
from tongbao.merchants.models import App
from tongbao.notify.events import record_event
from tongbao.payments import domain as payment_domain
from tongbao.payments.domain import PaymentStatus
from tongbao.payments.models import Payment
from tongbao.payments.store import load_payment
from tongbao.refunds import domain
from tongbao.refunds.domain import RefundKind, RefundStatus
from tongbao.refunds.models import Refund
from tongbao.refunds.views import notify_url_for, refund_public

log = structlog.get_logger(__name__)


class RefundApplied(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    UNCHANGED = "unchanged"  # still processing, or a repeat of what we know


async def apply_refund_result(
    c: Container, refund_id: str, result: RefundResult, source: str
) -> RefundApplied:
    return await retrying(lambda: _apply_once(c, refund_id, result, source))


async def _apply_once(c: Container, refund_id: str, result: RefundResult, source: str) -> RefundApplied:
    now = c.clock.now()
    async with c.uow() as tx:
        refund = await tx.get(Refund, refund_id)
        if refund is None:
            raise LookupError(refund_id)
        payment = await load_payment(tx, refund.payment_id, lock=True)
        refund = await lock_refund(tx, refund_id)
        assert refund is not None
        applied = await _apply(tx, payment, refund, result, source, now)
        await tx.commit()
    return applied


async def _apply(
    tx: AsyncSession, payment: Payment, refund: Refund, result: RefundResult, source: str, now: datetime
) -> RefundApplied:
    if result.channel_refund_no and not refund.channel_refund_no:
        refund.channel_refund_no = result.channel_refund_no
        refund.updated_at = now
    if result.state not in (RefundState.SUCCEEDED, RefundState.FAILED):
        return RefundApplied.UNCHANGED
    target = RefundStatus.SUCCEEDED if result.state is RefundState.SUCCEEDED else RefundStatus.FAILED
    evidence: dict[str, Any] = {
        "source": source,
        "channel_result": dict(result.raw),
        "state": result.state.value,
    }
    if refund.status != RefundStatus.PENDING:
        if refund.status == RefundStatus.FAILED and target is RefundStatus.SUCCEEDED:
            await _contested(tx, payment, refund, evidence, now)
        elif refund.status != target:
            log.error(
                "channel contradicts a final refund", refund_id=refund.id, ours=refund.status, theirs=target
            )
        return RefundApplied.UNCHANGED
    if target is RefundStatus.SUCCEEDED and result.amount is not None and result.amount != refund.amount:
        await _mismatched(tx, payment, refund, result.amount, evidence, now)
        return RefundApplied.UNCHANGED
    domain.check_refund_transition(RefundStatus.PENDING, target)
    refund.status = target.value
    refund.finished_at = now
    refund.updated_at = now
    await _settle_overdue(tx, refund, target, now)
    if target is RefundStatus.SUCCEEDED:
        await _succeeded(tx, payment, refund, now)
        return RefundApplied.SUCCEEDED
    refund.failure_reason = (result.failure_reason or "the channel refused the refund")[:500]
    await _failed(tx, payment, refund, evidence, now)
    return RefundApplied.FAILED


async def _settle_overdue(tx: AsyncSession, refund: Refund, target: RefundStatus, now: datetime) -> None:
    """A refund operators were told is overdue has its final word now: that case is settled."""
    case = await tx.scalar(
        select(ExceptionCase).where(
            ExceptionCase.refund_id == refund.id,
            ExceptionCase.kind == CaseKind.REFUND_OVERDUE.value,
            ExceptionCase.status == CaseStatus.OPEN.value,
        )
    )
    if case is not None:
        await record_action(
            tx,
            case,
            action=f"refund_{target.value}",
            actor="system",
            reason=f"the channel's final word: {target.value}",
            now=now,
            status=CaseStatus.RESOLVED,
            resolution=target.value,
        )


async def _succeeded(tx: AsyncSession, payment: Payment, refund: Refund, now: datetime) -> None:
    if refund.kind == RefundKind.MERCHANT:
        assert payment.captured_amount is not None
        refunded = payment.refunded_amount + refund.amount
        after = domain.payment_status_after(payment.captured_amount, refunded)
        payment_domain.check_payment_transition(PaymentStatus(payment.status), after)
        payment.refunded_amount = refunded
        payment.status = after.value
        payment.updated_at = now
        await _notify(tx, payment, refund, "refund.succeeded", now)
        return
    case = await tx.get(ExceptionCase, refund.case_id) if refund.case_id else None
    if case is not None and case.status == CaseStatus.OPEN:
        await record_action(
            tx,
            case,
            action="refund_succeeded",
            actor="system",
            reason=f"the channel sent {refund.amount} {refund.currency} back to the payer",
            now=now,
            detail={"refund_id": refund.id},
            status=CaseStatus.RESOLVED,
            resolution="refunded",
        )


async def _failed(
    tx: AsyncSession, payment: Payment, refund: Refund, evidence: dict[str, Any], now: datetime
) -> None:
    if refund.kind == RefundKind.MERCHANT:
        await _notify(tx, payment, refund, "refund.failed", now)
    case = await tx.get(ExceptionCase, refund.case_id) if refund.case_id else None
    if case is not None and case.status == CaseStatus.OPEN:
        # The case stays open: an operator decides again (another refund, or settle it outside).
        await record_action(
            tx,
            case,
            action="refund_failed",
            actor="system",
            reason=refund.failure_reason or "",
            now=now,
            detail={"refund_id": refund.id},
            resolution="refund_failed",
        )
        return
    await open_case(
        tx,
        kind=CaseKind.REFUND_FAILED.value,
        now=now,
        summary=(
            f"refund {refund.id} of {refund.amount} {refund.currency} on payment {payment.id} failed at "
            f"{refund.channel}: {refund.failure_reason}"
        ),
        evidence=evidence,
        merchant_id=payment.merchant_id,
        payment_id=payment.id,
        attempt_id=None,
        refund_id=refund.id,
        severity="critical",
    )


async def _contested(
    tx: AsyncSession, payment: Payment, refund: Refund, evidence: dict[str, Any], now: datetime
) -> None:
    """A verified report that a refund we recorded as failed went back after all. Neither word is
    taken: the refund stays failed (the merchant was told), its amount is reserved again so that it
    cannot go back twice, and operators decide which was true."""
    if refund.contested_at is not None:
        return  # the same contradiction heard again
    refund.contested_at = now
    refund.updated_at = now
    await open_case(
        tx,
        kind=CaseKind.REFUND_CONTRADICTED.value,
        now=now,
        summary=(
            f"the channel reports refund {refund.id} of {refund.amount} {refund.currency} on payment "
            f"{payment.id} succeeded after it failed ({refund.failure_reason}); its amount is reserved "
            "until an operator decides"
        ),
        evidence=evidence,
        merchant_id=payment.merchant_id,
        payment_id=payment.id,
        refund_id=refund.id,
        severity="critical",
    )


async def settle_by_operator(
    tx: AsyncSession, payment: Payment, refund: Refund, *, succeeded: bool, reason: str, now: datetime
) -> None:
    """An operator's word on a refund the channel left open or contradicted (they checked the
    channel's statement): it succeeds or fails with its own amount, as a channel's word would. The
    caller holds the payment's row lock."""
    if refund.contested_at is not None:
        # Recorded failed, reported succeeded: the one correction of a final refund, by a person.
        refund.contested_at = None
        refund.updated_at = now
        if succeeded:
            domain.check_refund_correction(RefundStatus(refund.status), RefundStatus.SUCCEEDED)
            refund.status = RefundStatus.SUCCEEDED.value
            refund.failure_reason = None
            refund.finished_at = now
            await _succeeded(tx, payment, refund, now)
        return
    target = RefundStatus.SUCCEEDED if succeeded else RefundStatus.FAILED
    domain.check_refund_transition(RefundStatus(refund.status), target)
    refund.status = target.value
    refund.finished_at = now
    refund.updated_at = now
    await _settle_overdue(tx, refund, target, now)
    if succeeded:
        await _succeeded(tx, payment, refund, now)
        return
    refund.failure_reason = f"an operator found it did not go back: {reason}"[:500]
    if refund.kind == RefundKind.MERCHANT:
        await _notify(tx, payment, refund, "refund.failed", now)


async def _mismatched(
    tx: AsyncSession, payment: Payment, refund: Refund, reported: int, evidence: dict[str, Any], now: datetime
) -> None:
    """A verified report of another amount going back: neither figure is believed over the other. The
    refund stays pending (so its amount stays reserved) and operators see both."""
    refund.last_error = f"amount_mismatch: the channel reports {reported}"
    refund.updated_at = now
    await open_case(
        tx,
        kind=CaseKind.REFUND_MISMATCH.value,
        now=now,
        summary=(
            f"the channel reports refund {refund.id} of payment {payment.id} as {reported} "
            f"{refund.currency}; it asked for {refund.amount} {refund.currency}"
        ),
        evidence={**evidence, "expected": {"amount": refund.amount}, "reported": {"amount": reported}},
        merchant_id=payment.merchant_id,
        payment_id=payment.id,
        refund_id=refund.id,
        severity="critical",
    )


async def _notify(tx: AsyncSession, payment: Payment, refund: Refund, event_type: str, now: datetime) -> None:
    app = await tx.get(App, payment.app_id)
    assert app is not None
    notify_url = notify_url_for(refund, payment, app)
    await record_event(
        tx,
        type=event_type,
        merchant_id=payment.merchant_id,
        app_id=payment.app_id,
        data=refund_public(refund, payment.out_trade_no, notify_url=notify_url),
        notify_url=notify_url,
        now=now,
        payment_id=payment.id,
    )
