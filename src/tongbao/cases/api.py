"""``/admin/v1/exception-cases`` and ``/admin/v1/alerts``: what operators must look at."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import select

from tongbao.api.deps import ContainerDep, OperatorDep
from tongbao.cases.models import AlertEvent, ExceptionCase
from tongbao.notify.events import iso

router = APIRouter(prefix="/admin/v1", tags=["admin: exception cases"])
LIMIT = 100


def case_public(case: ExceptionCase) -> dict[str, Any]:
    return {
        "id": case.id,
        "kind": case.kind,
        "status": case.status,
        "merchant_id": case.merchant_id,
        "payment_id": case.payment_id,
        "attempt_id": case.attempt_id,
        "summary": case.summary,
        "evidence": case.evidence,
        "created_at": iso(case.created_at),
    }


@router.get("/exception-cases")
async def list_cases(
    c: ContainerDep,
    _: OperatorDep,
    status: Annotated[str | None, Query(pattern="^(open|resolved|dismissed)$")] = None,
    payment_id: Annotated[str | None, Query(max_length=40)] = None,
) -> dict[str, Any]:
    stmt = select(ExceptionCase).order_by(ExceptionCase.id.desc()).limit(LIMIT)
    if status:
        stmt = stmt.where(ExceptionCase.status == status)
    if payment_id:
        stmt = stmt.where(ExceptionCase.payment_id == payment_id)
    async with c.uow() as tx:
        return {"data": [case_public(x) for x in await tx.scalars(stmt)]}


@router.get("/alerts")
async def list_alerts(c: ContainerDep, _: OperatorDep) -> dict[str, Any]:
    async with c.uow() as tx:
        rows = await tx.scalars(select(AlertEvent).order_by(AlertEvent.id.desc()).limit(LIMIT))
        return {
            "data": [
                {
                    "id": a.id,
                    "kind": a.kind,
                    "severity": a.severity,
                    "subject_id": a.subject_id,
                    "message": a.message,
                    "data": a.data,
                    "created_at": iso(a.created_at),
                }
                for a in rows
            ]
        }
