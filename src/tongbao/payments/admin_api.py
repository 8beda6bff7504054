"""``/admin/v1/payments``: operators look at any payment, with its attempts."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from tongbao.api.deps import ContainerDep, OperatorDep
from tongbao.payments.schemas import PaymentPublic
from tongbao.payments.service import PaymentService

router = APIRouter(prefix="/admin/v1/payments", tags=["admin: payments"])


@router.get("/{payment_id}", response_model=PaymentPublic)
async def admin_get_payment(c: ContainerDep, _: OperatorDep, payment_id: str) -> dict[str, Any]:
    return await PaymentService(c).view(payment_id)
