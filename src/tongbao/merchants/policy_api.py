"""``/admin/v1/merchants/{id}/exception-policy``: what happens to a duplicate or late capture before
anyone looks (``auto_refund``, the default, or ``hold_for_review``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body
from pydantic import BaseModel

from tongbao.api.deps import ContainerDep, OperatorDep
from tongbao.errors import InvalidRequest
from tongbao.merchants.domain.exception_policy import ExceptionPolicy
from tongbao.merchants.merchant_service import load_merchant

router = APIRouter(prefix="/admin/v1/merchants", tags=["admin: merchants"])


class PolicyBody(BaseModel):
    policy: str


class PolicyPublic(BaseModel):
    merchant_id: str
    policy: str


@router.get("/{merchant_id}/exception-policy", response_model=PolicyPublic)
async def get_policy(c: ContainerDep, _: OperatorDep, merchant_id: str) -> PolicyPublic:
    async with c.uow() as tx:
        merchant = await load_merchant(tx, merchant_id)
    return PolicyPublic(merchant_id=merchant.id, policy=merchant.exception_policy)


@router.put("/{merchant_id}/exception-policy", response_model=PolicyPublic)
async def set_policy(
    c: ContainerDep, _: OperatorDep, merchant_id: str, body: Annotated[PolicyBody, Body()]
) -> PolicyPublic:
    if body.policy not in set(ExceptionPolicy):
        names = ", ".join(p.value for p in ExceptionPolicy)
        raise InvalidRequest(f"policy is one of {names}", code="policy_unknown", param="policy")
    async with c.uow() as tx:
        merchant = await load_merchant(tx, merchant_id, lock=True)
        merchant.exception_policy = body.policy
        merchant.updated_at = c.clock.now()
        await tx.commit()
    return PolicyPublic(merchant_id=merchant_id, policy=body.policy)
