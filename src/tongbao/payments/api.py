"""``/v1/payments``: create, look up and close payments (merchant API, signed by the app)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response

from tongbao.api.deps import CallerDep, ContainerDep
from tongbao.payments.closing import close_payment
from tongbao.payments.schemas import PaymentCreate, PaymentPublic
from tongbao.payments.service import PaymentService

router = APIRouter(prefix="/v1/payments", tags=["merchant API: payments"])


@router.post("", status_code=201, response_model=PaymentPublic)
async def create_payment(
    c: ContainerDep, caller: CallerDep, body: Annotated[PaymentCreate, Body()], response: Response
) -> dict[str, Any]:
    """Creates a payment; the same out_trade_no with the same parameters returns it again (200)."""
    payment, created = await PaymentService(c).create(caller, body.model_dump(exclude_unset=True))
    if not created:
        response.status_code = 200
    return payment


@router.get("", response_model=PaymentPublic)
async def find_payment(
    c: ContainerDep, caller: CallerDep, out_trade_no: Annotated[str, Query(min_length=1, max_length=64)]
) -> dict[str, Any]:
    return await PaymentService(c).view_by_out_trade_no(caller.app.id, out_trade_no)


@router.get("/{payment_id}", response_model=PaymentPublic)
async def get_payment(c: ContainerDep, caller: CallerDep, payment_id: str) -> dict[str, Any]:
    return await PaymentService(c).view(payment_id, caller.merchant.id)


@router.post("/{payment_id}/close", response_model=PaymentPublic)
async def close(c: ContainerDep, caller: CallerDep, payment_id: str) -> dict[str, Any]:
    """Closes a pending payment at the channel. A payment paid meanwhile comes back succeeded (no error);
    closing a succeeded payment is 409."""
    await close_payment(c, payment_id, merchant_id=caller.merchant.id, reason="merchant")
    return await PaymentService(c).view(payment_id, caller.merchant.id)
