"""Opening exception cases for operators, each with an alert, inside the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tongbao.cases.models import AlertEvent, ExceptionCase
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
    severity: str = "warning",
) -> ExceptionCase:
    """One open case per (kind, attempt): the same evidence arriving again adds nothing."""
    if attempt_id is not None:
        existing = await tx.scalar(
            select(ExceptionCase).where(
                ExceptionCase.kind == kind,
                ExceptionCase.attempt_id == attempt_id,
                ExceptionCase.status == "open",
            )
        )
        if existing is not None:
            return existing
    case = ExceptionCase(
        id=new_id("case"),
        kind=kind,
        status="open",
        merchant_id=merchant_id,
        payment_id=payment_id,
        attempt_id=attempt_id,
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
            data={"case_id": case.id, "payment_id": payment_id, "attempt_id": attempt_id},
            created_at=now,
        )
    )
    log.warning("exception case opened", case_id=case.id, kind=kind, payment_id=payment_id)
    return case
