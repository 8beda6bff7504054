"""What operators read: cases (with their history and refunds) and alerts, newest first."""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import select

from tongbao.cases.models import AlertEvent, CaseAction, ExceptionCase
from tongbao.cases.views import action_public, alert_public, case_public
from tongbao.container import Container
from tongbao.errors import NotFound
from tongbao.refunds.models import Refund
from tongbao.refunds.views import refund_admin

LIMIT: Final = 100


async def case_view(c: Container, case_id: str) -> dict[str, Any]:
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


async def list_cases(
    c: Container, *, status: str | None, payment_id: str | None, kind: str | None
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


async def list_alerts(c: Container) -> dict[str, Any]:
    async with c.uow() as tx:
        rows = await tx.scalars(select(AlertEvent).order_by(AlertEvent.id.desc()).limit(LIMIT))
        return {"data": [alert_public(a) for a in rows]}
