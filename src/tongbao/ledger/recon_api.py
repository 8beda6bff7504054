"""``/admin/v1/recon/internal``: what internal reconciliation found, and its runs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import select

from tongbao.api.deps import ContainerDep, OperatorDep
from tongbao.ledger.models import InternalDifference, InternalReconRun
from tongbao.merchants.pagination import Cursor, Listed, WindowDep, newest_first, page_body, take
from tongbao.timestamps import Instant

router = APIRouter(prefix="/admin/v1/recon/internal", tags=["admin: reconciliation"])

IdFilter = Annotated[str | None, Query(max_length=40)]


class DifferencePublic(BaseModel):
    id: str
    run_id: str
    kind: str
    payment_id: str | None
    refund_id: str | None
    entry_id: str | None
    message: str
    created_at: Instant


class DifferencesPublic(Listed[DifferencePublic]):
    pass


class RunPublic(BaseModel):
    id: str
    business_date: str | None
    payments_checked: int
    refunds_checked: int
    entries_checked: int
    differences: int
    started_at: Instant
    finished_at: Instant


class RunsPublic(Listed[RunPublic]):
    pass


def _columns(row: Any, model: type[BaseModel]) -> dict[str, Any]:
    return {name: getattr(row, name) for name in model.model_fields}


@router.get("", response_model=DifferencesPublic)
async def list_differences(
    c: ContainerDep,
    _: OperatorDep,
    window: WindowDep,
    run_id: IdFilter = None,
    kind: Annotated[str | None, Query(max_length=40)] = None,
    payment_id: IdFilter = None,
) -> dict[str, Any]:
    """Newest first: trade records without their entry, entries without their event, figures that
    disagree."""
    stmt = select(InternalDifference)
    for column, wanted in (
        (InternalDifference.run_id, run_id),
        (InternalDifference.kind, kind),
        (InternalDifference.payment_id, payment_id),
    ):
        if wanted is not None:
            stmt = stmt.where(column == wanted)
    async with c.uow() as tx:
        rows = list(
            await tx.scalars(newest_first(stmt, InternalDifference.created_at, InternalDifference.id, window))
        )
    piece = take(rows, window, lambda d: Cursor(d.created_at, d.id))
    return page_body([_columns(d, DifferencePublic) for d in piece.rows], piece)


@router.get("/runs", response_model=RunsPublic)
async def list_runs(c: ContainerDep, _: OperatorDep, window: WindowDep) -> dict[str, Any]:
    stmt = select(InternalReconRun)
    async with c.uow() as tx:
        rows = list(
            await tx.scalars(newest_first(stmt, InternalReconRun.started_at, InternalReconRun.id, window))
        )
    piece = take(rows, window, lambda r: Cursor(r.started_at, r.id))
    return page_body([_columns(r, RunPublic) for r in piece.rows], piece)
