"""``/v1/refunds``: create and look up refunds (merchant API, signed by the app)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response

from tongbao.api.deps import CallerDep, ContainerDep
from tongbao.refunds.schemas import RefundCreate, RefundPublic
from tongbao.refunds.service import RefundService

router = APIRouter(prefix="/v1/refunds", tags=["merchant API: refunds"])


@router.post("", status_code=201, response_model=RefundPublic)
async def create_refund(
    c: ContainerDep, caller: CallerDep, body: Annotated[RefundCreate, Body()], response: Response
) -> dict[str, Any]:
    """Refunds all or part of a succeeded payment; several partial refunds may follow one another up to
    what was captured. The same out_refund_no with the same parameters returns the refund again (200).
    The refund is ``pending`` until the channel confirms (``refund.succeeded`` / ``refund.failed``)."""
    refund, created = await RefundService(c).create(caller, body.model_dump(exclude_unset=True))
    if not created:
        response.status_code = 200
    return refund


@router.get("", response_model=RefundPublic)
async def find_refund(
    c: ContainerDep, caller: CallerDep, out_refund_no: Annotated[str, Query(min_length=1, max_length=64)]
) -> dict[str, Any]:
    return await RefundService(c).view_by_out_refund_no(caller.app.id, caller.merchant.id, out_refund_no)


@router.get("/{refund_id}", response_model=RefundPublic)
async def get_refund(c: ContainerDep, caller: CallerDep, refund_id: str) -> dict[str, Any]:
    return await RefundService(c).view(refund_id, caller.merchant.id)
