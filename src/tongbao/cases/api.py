"""``/admin/v1/exception-cases`` and ``/admin/v1/alerts``: what operators must look at."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from tongbao.api.deps import ContainerDep, OperatorDep
from tongbao.cases.decisions import decide
from tongbao.cases.models import AlertEvent, CaseAction, ExceptionCase
from tongbao.errors import NotFound
from tongbao.notify.events import iso
from tongbao.refunds.models import Refund
from tongbao.refunds.views import refund_admin

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
        "refund_id": case.refund_id,
        "summary": case.summary,
        "evidence": case.evidence,
        "resolution": case.resolution,
        "created_at": iso(case.created_at),
        "updated_at": iso(case.updated_at),
    }


def action_public(action: CaseAction) -> dict[str, Any]:
    return {
        "action": action.action,
        "actor": action.actor,
        "reason": action.reason,
        "detail": action.detail,
        "at": iso(action.at),
    }


class DecisionBody(BaseModel):
    """``decision``: accept | refund | reopen | resolve | dismiss | mark_refunded | mark_failed |
    resume (which ones depend on the kind); ``reason``: why, kept in the case's history with the
    operator's name; ``amount`` (accept only): which of the channel's reported amounts was right,
    when it reported more than one (the first report by default)."""

    model_config = ConfigDict(extra="forbid")

    decision: Any = None
    reason: Any = None
    amount: int | None = None


async def _case_view(c: ContainerDep, case_id: str) -> dict[str, Any]:
    async with c.uow() as tx:
        case = await tx.get(ExceptionCase, case_id)
        if case is None:
            raise NotFound("no such exception case", code="case_not_found", param="case_id")
        history = await tx.scalars(
            select(CaseAction).where(CaseAction.case_id == case_id).order_by(CaseAction.at, CaseAction.id)
        )
        refunds = await tx.scalars(select(Refund).where(Refund.case_id == case_id).order_by(Refund.id))
        return {
            **case_public(case),
            "history": [action_public(a) for a in history],
            "refunds": [refund_admin(r) for r in refunds],
        }


@router.get("/exception-cases")
async def list_cases(
    c: ContainerDep,
    _: OperatorDep,
    status: Annotated[str | None, Query(pattern="^(open|resolved|dismissed)$")] = None,
    payment_id: Annotated[str | None, Query(max_length=40)] = None,
    kind: Annotated[str | None, Query(max_length=40)] = None,
) -> dict[str, Any]:
    stmt = select(ExceptionCase).order_by(ExceptionCase.id.desc()).limit(LIMIT)
    if status:
        stmt = stmt.where(ExceptionCase.status == status)
    if payment_id:
        stmt = stmt.where(ExceptionCase.payment_id == payment_id)
    if kind:
        stmt = stmt.where(ExceptionCase.kind == kind)
    async with c.uow() as tx:
        return {"data": [case_public(x) for x in await tx.scalars(stmt)]}


@router.get("/exception-cases/{case_id}")
async def get_case(c: ContainerDep, _: OperatorDep, case_id: str) -> dict[str, Any]:
    """The case with its history (every decision: who, when, why) and the refunds it started."""
    return await _case_view(c, case_id)


@router.post("/exception-cases/{case_id}/decisions")
async def decide_case(
    c: ContainerDep, operator: OperatorDep, case_id: str, body: Annotated[DecisionBody, Body()]
) -> dict[str, Any]:
    """Takes a decision on an open case. ``refund`` keeps the case open until the channel has sent
    the money back; the others close it."""
    await decide(c, case_id, body.model_dump(), actor=operator.name)
    return await _case_view(c, case_id)


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
