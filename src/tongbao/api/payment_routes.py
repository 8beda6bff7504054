"""``/v1/payments``: create, look up, list and close payments (merchant API, signed by the app)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response

from tongbao.api.deps import CallerDep, ContainerDep
from tongbao.api.payment_schemas import PaymentPublic, PaymentsPublic
from tongbao.api.payment_views import (
    fresh_payment_view,
    list_payments,
    payment_view,
    payment_view_by_out_trade_no,
)
from tongbao.merchants.pagination import WindowDep
from tongbao.payments.closing import close_payment
from tongbao.payments.domain import PaymentStatus
from tongbao.payments.schemas import PaymentCreate
from tongbao.payments.service import PaymentService

router = APIRouter(prefix="/v1/payments", tags=["merchant API: payments"])


@router.post(
    "",
    status_code=201,
    response_model=PaymentPublic,
    responses={200: {"model": PaymentPublic, "description": "The same request again: the payment it made"}},
)
async def create_payment(
    c: ContainerDep, caller: CallerDep, body: Annotated[PaymentCreate, Body()], response: Response
) -> dict[str, Any]:
    """Creates a payment; the same out_trade_no with the same parameters returns it again (200)."""
    opened = await PaymentService(c).open(caller, body)
    if not opened.created:
        response.status_code = 200
    if opened.written is not None:
        return fresh_payment_view(c, *opened.written)
    return await payment_view(c, opened.payment_id)


@router.get("", response_model=PaymentPublic | PaymentsPublic)
async def find_payment(  # keeps its operation id from before the list joined it
    c: ContainerDep,
    caller: CallerDep,
    window: WindowDep,
    out_trade_no: Annotated[
        str | None, Query(min_length=1, max_length=64, description="Look one payment up")
    ] = None,
    status: PaymentStatus | None = None,
) -> dict[str, Any]:
    """With ``out_trade_no``: that payment of the calling app (404 ``payment_not_found``). Without:
    the app's payments, newest first, a page at a time (``limit``, ``starting_after``, filters)."""
    if out_trade_no is not None:
        return await payment_view_by_out_trade_no(c, caller.app.id, out_trade_no)
    return await list_payments(c, caller, window, status)


@router.get("/{payment_id}", response_model=PaymentPublic)
async def get_payment(c: ContainerDep, caller: CallerDep, payment_id: str) -> dict[str, Any]:
    return await payment_view(c, payment_id, caller.merchant.id)


@router.post("/{payment_id}/close", response_model=PaymentPublic)
async def close(c: ContainerDep, caller: CallerDep, payment_id: str) -> dict[str, Any]:
    """Closes a pending payment at the channel. A payment paid meanwhile comes back succeeded (no error);
    closing a succeeded payment is 409."""
    await close_payment(c, payment_id, merchant_id=caller.merchant.id, reason="merchant")
    return await payment_view(c, payment_id, caller.merchant.id)
