"""``/admin/v1/payments``: operators look at any payment, with its attempts."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from tongbao.api.deps import ContainerDep, OperatorDep
from tongbao.api.payment_schemas import PaymentPublic
from tongbao.api.payment_views import payment_view

router = APIRouter(prefix="/admin/v1/payments", tags=["admin: payments"])


@router.get("/{payment_id}", response_model=PaymentPublic)
async def admin_get_payment(c: ContainerDep, _: OperatorDep, payment_id: str) -> dict[str, Any]:
    return await payment_view(c, payment_id)
