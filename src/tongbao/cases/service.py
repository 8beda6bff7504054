"""Opening exception cases for operators (each with an alert) and writing their history, inside the
caller's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tongbao.cases.domain import CaseStatus
from tongbao.cases.models import AlertEvent, CaseAction, ExceptionCase
from tongbao.ids import new_id

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
    Returns the case and whether it was opened now."""
    if attempt_id is not None or refund_id is not None:
        same = (
            ExceptionCase.attempt_id == attempt_id
            if attempt_id is not None
            else ExceptionCase.refund_id == refund_id
        )
        existing = await tx.scalar(select(ExceptionCase).where(ExceptionCase.kind == kind, same))
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
    tx.add(case)
    tx.add(
        AlertEvent(
            id=new_id("alert"),
            kind=f"case.{kind}",
            severity=severity,
            subject_id=case.id,
            message=summary,
            data={
                "case_id": case.id,
                "payment_id": payment_id,
                "attempt_id": attempt_id,
                "refund_id": refund_id,
            },
            created_at=now,
        )
    )
    log.warning("exception case opened", case_id=case.id, kind=kind, payment_id=payment_id)
    return case, True


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
    if status is not None:
        case.status = status.value
    if resolution is not None:
        case.resolution = resolution
    case.updated_at = now
    log.info("exception case action", case_id=case.id, action=action, actor=actor, status=case.status)
