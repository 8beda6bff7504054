"""``/admin/v1/exception-cases`` and ``/admin/v1/alerts``: what operators must look at."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query

from tongbao.api.deps import ContainerDep, OperatorDep
from tongbao.cases import reading
from tongbao.cases.decisions import decide
from tongbao.cases.schemas import AlertList, CaseDetail, CaseList, DecisionBody

router = APIRouter(prefix="/admin/v1", tags=["admin: exception cases"])


@router.get("/exception-cases", response_model=CaseList)
async def list_cases(
    c: ContainerDep,
    _: OperatorDep,
    status: Annotated[str | None, Query(pattern="^(open|resolved|dismissed)$")] = None,
    payment_id: Annotated[str | None, Query(max_length=40)] = None,
    kind: Annotated[str | None, Query(max_length=40)] = None,
) -> dict[str, Any]:
    """The newest 100 cases, filtered by status, payment or kind."""
    return await reading.list_cases(c, status=status, payment_id=payment_id, kind=kind)


@router.get("/exception-cases/{case_id}", response_model=CaseDetail)
async def get_case(c: ContainerDep, _: OperatorDep, case_id: str) -> dict[str, Any]:
    """The case with its history (every decision: who, when, why) and the refunds it started."""
    return await reading.case_view(c, case_id)


@router.post("/exception-cases/{case_id}/decisions", response_model=CaseDetail)
async def decide_case(
    c: ContainerDep, operator: OperatorDep, case_id: str, body: Annotated[DecisionBody, Body()]
) -> dict[str, Any]:
    """Takes a decision on an open case. ``refund`` keeps the case open until the channel has sent
    the money back; the others close it."""
    await decide(c, case_id, body.model_dump(), actor=operator.name)
    return await reading.case_view(c, case_id)


@router.get("/alerts", response_model=AlertList)
async def list_alerts(c: ContainerDep, _: OperatorDep) -> dict[str, Any]:
    """The newest 100 alerts."""
    return await reading.list_alerts(c)
