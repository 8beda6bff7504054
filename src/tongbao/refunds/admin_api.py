"""``/admin/v1/refunds``: operators look at any refund, Tongbao's own returns of captures included."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from tongbao.api.deps import ContainerDep, OperatorDep
from tongbao.merchants.pagination import WindowDep
from tongbao.refunds.domain import RefundKind, RefundStatus
from tongbao.refunds.listing import RefundFilter, list_all_refunds, show_refund
from tongbao.refunds.schemas import RefundAdminPublic, RefundsAdminPublic

router = APIRouter(prefix="/admin/v1/refunds", tags=["admin: refunds"])

IdFilter = Annotated[str | None, Query(max_length=40)]


@router.get("", response_model=RefundsAdminPublic)
async def admin_list_refunds(
    c: ContainerDep,
    _: OperatorDep,
    window: WindowDep,
    *,
    status: RefundStatus | None = None,
    kind: RefundKind | None = None,
    merchant_id: IdFilter = None,
    app_id: IdFilter = None,
    payment_id: IdFilter = None,
) -> dict[str, Any]:
    """Newest first, a page at a time (``limit``, ``starting_after``), filtered as asked."""
    filters = RefundFilter(status, kind, payment_id, merchant_id, app_id)
    return await list_all_refunds(c, window, filters)


@router.get("/{refund_id}", response_model=RefundAdminPublic)
async def admin_get_refund(c: ContainerDep, _: OperatorDep, refund_id: str) -> dict[str, Any]:
    return await show_refund(c, refund_id)
