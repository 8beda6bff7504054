"""Opening exception cases for operators (each with an alert) and writing their history, inside the
caller's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tongbao.cases.domain import CaseKind, CaseStatus, settle_case
from tongbao.cases.models import AlertEvent, CaseAction, ExceptionCase
from tongbao.db.locks import Rank, lock_row
from tongbao.db.uow import publish
from tongbao.ids import new_id
from tongbao.payments import domain as payment_domain
from tongbao.payments.models import Payment

log = structlog.get_logger(__name__)


async def open_case(
    tx: AsyncSession,
    *,
    kind: str,
    now: datetime,
    summary: str,
    evidence: dict[str, Any],
    merchant_id: str | None = None,
    payment_id: str | None = None,
    attempt_id: str | None = None,
    refund_id: str | None = None,
    severity: str = "warning",
) -> tuple[ExceptionCase, bool]:
    """One case per (kind, attempt) or (kind, refund): the same evidence arriving again adds nothing.
    Returns the case and whether it was opened now. The database's unique constraints decide a race
    between two transactions; the savepoint keeps the caller's transaction usable when it loses."""
    same = _same_case(kind, attempt_id, refund_id)
    if same is not None:
        existing = await tx.scalar(select(ExceptionCase).where(same))
        if existing is not None:
            return existing, False
    case = ExceptionCase(
        id=new_id("case"),
        kind=kind,
        status=CaseStatus.OPEN.value,
        merchant_id=merchant_id,
        payment_id=payment_id,
        attempt_id=attempt_id,
        refund_id=refund_id,
        summary=summary,
        evidence=evidence,
        created_at=now,
        updated_at=now,
    )
    await tx.flush()  # the caller's own pending rows, so that their errors stay theirs
    try:
        async with tx.begin_nested():
            tx.add(case)
    except IntegrityError:
        assert same is not None
        existing = await tx.scalar(select(ExceptionCase).where(same))
        assert existing is not None
        return existing, False
    raise_alert(
        tx,
        kind=f"case.{kind}",
        severity=severity,
        subject_id=case.id,
        message=summary,
        data={"case_id": case.id, "payment_id": payment_id, "attempt_id": attempt_id, "refund_id": refund_id},
        now=now,
    )
    log.warning("exception case opened", case_id=case.id, kind=kind, payment_id=payment_id)
    return case, True


async def lock_case(tx: AsyncSession, case_id: str) -> ExceptionCase | None:
    return await lock_row(tx, Rank.CASE, ExceptionCase, case_id)


def _same_case(kind: str, attempt_id: str | None, refund_id: str | None) -> ColumnElement[bool] | None:
    if attempt_id is not None:
        return and_(ExceptionCase.kind == kind, ExceptionCase.attempt_id == attempt_id)
    if refund_id is not None:
        return and_(ExceptionCase.kind == kind, ExceptionCase.refund_id == refund_id)
    return None


def raise_alert(
    tx: AsyncSession,
    *,
    kind: str,
    severity: str,
    subject_id: str | None,
    message: str,
    data: dict[str, Any],
    now: datetime,
) -> None:
    """An alert for operators, written in the transaction of what caused it."""
    tx.add(
        AlertEvent(
            id=new_id("alert"),
            kind=kind,
            severity=severity,
            subject_id=subject_id,
            message=message,
            data=data,
            created_at=now,
        )
    )


async def record_action(
    tx: AsyncSession,
    case: ExceptionCase,
    *,
    action: str,
    actor: str,
    reason: str,
    now: datetime,
    detail: dict[str, Any] | None = None,
    status: CaseStatus | None = None,
    resolution: str | None = None,
) -> None:
    """Appends to the case's history and, with ``status``, moves it (open → resolved | dismissed)."""
    tx.add(
        CaseAction(
            id=new_id("case_action"),
            case_id=case.id,
            action=action,
            actor=actor,
            reason=reason,
            detail=detail or {},
            at=now,
        )
    )
    closing = status is not None and case.status == CaseStatus.OPEN and status is not CaseStatus.OPEN
    settle_case(case, status, resolution, now)
    if closing and case.kind == CaseKind.AMOUNT_MISMATCH and case.payment_id is not None:
        # The review that held the payment ends with its case.
        payment = await tx.get(Payment, case.payment_id)
        assert payment is not None
        publish(tx, payment_domain.release_hold(payment, now))
    log.info("exception case action", case_id=case.id, action=action, actor=actor, status=case.status)
