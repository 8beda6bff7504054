"""What payments' and refunds' events mean for operators: exception cases opened, heard and settled,
and the merchant's exception policy applied before anyone looks. Registered in ``tongbao.bootstrap``
and run by the unit of work in the transaction of the event's cause; ``report_refusal`` tells
operators of a transaction a handler refused (the ledger)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tongbao.cases.domain import CaseKind, CaseStatus
from tongbao.cases.models import CaseAction, ExceptionCase
from tongbao.cases.remedies import refund_capture, reopen_payment
from tongbao.cases.service import open_case, raise_alert, record_action
from tongbao.db.uow import EventHandlers, UnitOfWork
from tongbao.events import DomainEvent
from tongbao.merchants.domain.exception_policy import ExceptionPolicy
from tongbao.merchants.models import Merchant
from tongbao.payments.domain import (
    CaptureContradicted,
    CaptureDuplicated,
    CaptureLate,
    CaptureMismatched,
)
from tongbao.payments.models import Payment, PaymentAttempt
from tongbao.refunds.domain import (
    RefundAmountDisputed,
    RefundContested,
    RefundEvent,
    RefundFailed,
    RefundKind,
    RefundOverdue,
    RefundSucceeded,
    RefundSyncStopped,
)
from tongbao.rules import Refused

SYSTEM = "system"
log = structlog.get_logger(__name__)


def register(handlers: EventHandlers) -> None:
    handlers.on(CaptureDuplicated, extra_capture)
    handlers.on(CaptureLate, extra_capture)
    handlers.on(CaptureMismatched, mismatched_capture)
    handlers.on(CaptureContradicted, contradicted_capture)
    handlers.on(RefundSucceeded, refund_succeeded)
    handlers.on(RefundFailed, refund_failed)
    handlers.on(RefundContested, refund_contested)
    handlers.on(RefundAmountDisputed, refund_disputed)
    handlers.on(RefundOverdue, refund_overdue)
    handlers.on(RefundSyncStopped, refund_sync_stopped)


# -- captures ----------------------------------------------------------------------------------------


async def extra_capture(tx: AsyncSession, event: CaptureDuplicated | CaptureLate) -> None:
    """A capture the payment could not take: a case, then the merchant's policy."""
    duplicate = isinstance(event, CaptureDuplicated)
    kind = CaseKind.DUPLICATE_PAYMENT if duplicate else CaseKind.LATE_SUCCESS
    case, opened = await open_case(
        tx,
        kind=kind.value,
        now=event.at,
        summary=(
            f"attempt {event.attempt_id} captured {event.amount} {event.currency} at {event.channel} while "
            f"payment {event.payment_id} is {event.payment_status}"
            + (f" (captured by {event.captured_by})" if isinstance(event, CaptureDuplicated) else "")
        ),
        evidence=event.evidence,
        merchant_id=event.merchant_id,
        payment_id=event.payment_id,
        attempt_id=event.attempt_id,
        severity="critical",
    )
    merchant = await tx.get(Merchant, event.merchant_id)
    assert merchant is not None
    if not opened or ExceptionPolicy(merchant.exception_policy) is not ExceptionPolicy.AUTO_REFUND:
        return
    payment = await tx.get(Payment, event.payment_id)
    attempt = await tx.get(PaymentAttempt, event.attempt_id)
    assert payment is not None and attempt is not None
    if duplicate:
        reason = "merchant policy auto_refund: a second capture"
        await refund_capture(tx, case, payment, attempt, actor=SYSTEM, reason=reason, now=event.at)
    else:
        reason = "merchant policy auto_refund: nothing else captured"
        await reopen_payment(tx, case, payment, attempt, actor=SYSTEM, reason=reason, now=event.at)


async def mismatched_capture(tx: AsyncSession, event: CaptureMismatched) -> None:
    await open_case(
        tx,
        kind=CaseKind.AMOUNT_MISMATCH.value,
        now=event.at,
        summary=(
            f"the channel reports {event.amount} {event.currency} paid for attempt {event.attempt_id}, "
            f"which asked for {event.expected_amount} {event.expected_currency}"
        ),
        evidence={
            **event.evidence,
            "expected": {"amount": event.expected_amount, "currency": event.expected_currency},
            "reported": {
                "amount": event.amount,
                "currency": event.currency,
                "channel_trade_no": event.channel_trade_no,
            },
        },
        merchant_id=event.merchant_id,
        payment_id=event.payment_id,
        attempt_id=event.attempt_id,
        severity="critical",
    )


async def contradicted_capture(tx: AsyncSession, event: CaptureContradicted) -> None:
    """The held attempt's case keeps the channel's second word beside its first, once."""
    case = await tx.scalar(
        select(ExceptionCase).where(
            ExceptionCase.attempt_id == event.attempt_id, ExceptionCase.kind == CaseKind.AMOUNT_MISMATCH.value
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
    source = event.evidence.get("source")
    await record_action(
        tx,
        case,
        action="channel_contradicted",
        actor=SYSTEM,
        reason=(
            f"the channel's {source} now reports {event.amount} {event.currency}, the amount asked for; "
            "the payment stays held until an operator decides"
        ),
        now=event.at,
        detail={
            "amount": event.amount,
            "currency": event.currency,
            "source": source,
            "channel_result": event.evidence.get("channel_result"),
        },
    )


# -- refunds -----------------------------------------------------------------------------------------


async def _settle_overdue(tx: AsyncSession, event: RefundEvent, outcome: str) -> None:
    """A refund operators were told is overdue has its final word now: that case is settled."""
    case = await tx.scalar(
        select(ExceptionCase).where(
            ExceptionCase.refund_id == event.refund_id,
            ExceptionCase.kind == CaseKind.REFUND_OVERDUE.value,
            ExceptionCase.status == CaseStatus.OPEN.value,
        )
    )
    if case is not None:
        await record_action(
            tx,
            case,
            action=f"refund_{outcome}",
            actor=SYSTEM,
            reason=f"the channel's final word: {outcome}",
            now=event.at,
            status=CaseStatus.RESOLVED,
            resolution=outcome,
        )


async def _own_case(tx: AsyncSession, event: RefundEvent) -> ExceptionCase | None:
    """The open case a refund of Tongbao's own was sent back for."""
    case = await tx.get(ExceptionCase, event.case_id) if event.case_id else None
    return case if case is not None and case.status == CaseStatus.OPEN else None


async def _refund_case(
    tx: AsyncSession, event: RefundEvent, kind: CaseKind, summary: str, evidence: dict[str, Any]
) -> ExceptionCase:
    """The one case of this kind about the event's refund, opened (with its alert) if new."""
    case, _ = await open_case(
        tx,
        kind=kind.value,
        now=event.at,
        summary=summary,
        evidence=evidence,
        merchant_id=event.merchant_id,
        payment_id=event.payment_id,
        refund_id=event.refund_id,
        severity="critical",
    )
    return case


async def refund_succeeded(tx: AsyncSession, event: RefundSucceeded) -> None:
    await _settle_overdue(tx, event, "succeeded")
    case = await _own_case(tx, event) if event.kind != RefundKind.MERCHANT else None
    if case is not None:
        await record_action(
            tx,
            case,
            action="refund_succeeded",
            actor=SYSTEM,
            reason=f"the channel sent {event.amount} {event.currency} back to the payer",
            now=event.at,
            detail={"refund_id": event.refund_id},
            status=CaseStatus.RESOLVED,
            resolution="refunded",
        )


async def refund_failed(tx: AsyncSession, event: RefundFailed) -> None:
    await _settle_overdue(tx, event, "failed")
    if event.by != "channel":
        return  # an operator's word, given on a case already
    case = await _own_case(tx, event)
    if case is not None:
        # The case stays open: an operator decides again (another refund, or settle it outside).
        await record_action(
            tx,
            case,
            action="refund_failed",
            actor=SYSTEM,
            reason=event.failure_reason,
            now=event.at,
            detail={"refund_id": event.refund_id},
            resolution="refund_failed",
        )
        return
    await _refund_case(
        tx,
        event,
        CaseKind.REFUND_FAILED,
        (
            f"refund {event.refund_id} of {event.amount} {event.currency} on payment {event.payment_id} "
            f"failed at {event.channel}: {event.failure_reason}"
        ),
        event.evidence,
    )


async def refund_contested(tx: AsyncSession, event: RefundContested) -> None:
    await _refund_case(
        tx,
        event,
        CaseKind.REFUND_CONTRADICTED,
        (
            f"the channel reports refund {event.refund_id} of {event.amount} {event.currency} on payment "
            f"{event.payment_id} succeeded after it failed ({event.failure_reason}); its amount is "
            "reserved until an operator decides"
        ),
        event.evidence,
    )


async def refund_disputed(tx: AsyncSession, event: RefundAmountDisputed) -> None:
    await _refund_case(
        tx,
        event,
        CaseKind.REFUND_MISMATCH,
        (
            f"the channel reports refund {event.refund_id} of payment {event.payment_id} as "
            f"{event.reported_amount} {event.currency}; it asked for {event.amount} {event.currency}"
        ),
        {
            **event.evidence,
            "expected": {"amount": event.amount},
            "reported": {"amount": event.reported_amount},
        },
    )


async def _overdue_case(tx: AsyncSession, event: RefundOverdue | RefundSyncStopped) -> ExceptionCase:
    return await _refund_case(
        tx,
        event,
        CaseKind.REFUND_OVERDUE,
        (
            f"refund {event.refund_id} of {event.amount} {event.currency} on payment {event.payment_id} "
            f"is still pending at {event.channel} after {event.queries_done} queries "
            f"(last: {event.last_error or 'processing'})"
        ),
        {"queries_done": event.queries_done, "last_error": event.last_error},
    )


async def refund_overdue(tx: AsyncSession, event: RefundOverdue) -> None:
    await _overdue_case(tx, event)


async def refund_sync_stopped(tx: AsyncSession, event: RefundSyncStopped) -> None:
    case = await _overdue_case(tx, event)
    message = (
        f"the janitor stopped asking {event.channel} about refund {event.refund_id} after "
        f"{event.attempts} attempts; it stays pending (its amount reserved) until an operator resumes "
        "or settles it"
    )
    await record_action(
        tx,
        case,
        action="sync_stopped",
        actor=SYSTEM,
        reason=message,
        now=event.at,
        detail={"refund_id": event.refund_id, "attempts": event.attempts, "last_error": event.last_error},
    )
    raise_alert(
        tx,
        kind="refund.sync_stopped",
        severity="critical",
        subject_id=case.id,
        message=message,
        data={"case_id": case.id, "refund_id": event.refund_id, "payment_id": event.payment_id},
        now=event.at,
    )


# -- refusals ----------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


async def report_refusal(uow: UnitOfWork, event: DomainEvent, refusal: Refused) -> None:
    """A handler (the ledger) refused what a transaction did, which rolled back whole: operators hear
    of it, an alert each time and one case per attempt, in a transaction of its own."""
    facts = {k: _plain(v) for k, v in asdict(event).items() if k != "evidence"}
    summary = f"the ledger refused {type(event).__name__}: {refusal.message}"
    log.error("ledger refused", code=refusal.code, caused_by=type(event).__name__, reason=refusal.message)
    async with uow() as tx:
        case, _ = await open_case(
            tx,
            kind=CaseKind.LEDGER_REFUSED.value,
            now=event.at,
            summary=summary,
            evidence={"code": refusal.code, "event": type(event).__name__, "facts": facts},
            merchant_id=facts.get("merchant_id"),
            payment_id=facts.get("payment_id"),
            attempt_id=facts.get("attempt_id"),
            severity="critical",
        )
        raise_alert(
            tx,
            kind="ledger.refused",
            severity="critical",
            subject_id=case.id,
            message=summary,
            data={"case_id": case.id, "code": refusal.code, "event": type(event).__name__},
            now=event.at,
        )
        await tx.commit()
