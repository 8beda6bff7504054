"""``/v1/refunds``: create, look up and list refunds (merchant API, signed by the app)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response

from tongbao.api.deps import CallerDep, ContainerDep
from tongbao.merchants.pagination import WindowDep
from tongbao.refunds.domain import RefundStatus
from tongbao.refunds.listing import list_refunds
from tongbao.refunds.schemas import RefundCreate, RefundPublic, RefundsPublic
from tongbao.refunds.service import RefundService

router = APIRouter(prefix="/v1/refunds", tags=["merchant API: refunds"])


@router.post(
    "",
    status_code=201,
    response_model=RefundPublic,
    responses={200: {"model": RefundPublic, "description": "The same request again: the refund it made"}},
)
async def create_refund(
    c: ContainerDep, caller: CallerDep, body: Annotated[RefundCreate, Body()], response: Response
) -> dict[str, Any]:
    """Refunds all or part of a succeeded payment; several partial refunds may follow one another up to
    what was captured. The same out_refund_no with the same parameters returns the refund again (200).
    The refund is ``pending`` until the channel confirms (``refund.succeeded`` / ``refund.failed``)."""
    refund, created = await RefundService(c).create(caller, body)
    if not created:
        response.status_code = 200
    return refund


@router.get("", response_model=RefundPublic | RefundsPublic)
async def find_refund(  # keeps its operation id from before the list joined it
    c: ContainerDep,
    caller: CallerDep,
    window: WindowDep,
    *,
    out_refund_no: Annotated[
        str | None, Query(min_length=1, max_length=64, description="Look one refund up")
    ] = None,
    status: RefundStatus | None = None,
    payment_id: Annotated[str | None, Query(max_length=40)] = None,
) -> dict[str, Any]:
    """With ``out_refund_no``: that refund of the calling app (404 ``refund_not_found``). Without:
    the app's refunds, newest first, a page at a time (``limit``, ``starting_after``, filters)."""
    if out_refund_no is not None:
        return await RefundService(c).view_by_out_refund_no(caller.app.id, caller.merchant.id, out_refund_no)
    return await list_refunds(c, caller, window, status, payment_id)


@router.get("/{refund_id}", response_model=RefundPublic)
async def get_refund(c: ContainerDep, caller: CallerDep, refund_id: str) -> dict[str, Any]:
    return await RefundService(c).view(refund_id, caller.merchant.id)
