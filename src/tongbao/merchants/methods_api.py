"""``/admin/v1/merchants/{id}/methods``: which payment methods a merchant may take."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body
from pydantic import BaseModel

from tongbao.api.deps import ContainerDep, OperatorDep
from tongbao.channels.kinds import Method
from tongbao.errors import InvalidRequest
from tongbao.merchants.merchant_service import load_merchant

router = APIRouter(prefix="/admin/v1/merchants", tags=["admin: merchants"])


class MethodsBody(BaseModel):
    methods: list[str]


class MethodsPublic(BaseModel):
    merchant_id: str
    methods: list[str]


@router.get("/{merchant_id}/methods", response_model=MethodsPublic)
async def get_methods(c: ContainerDep, _: OperatorDep, merchant_id: str) -> MethodsPublic:
    async with c.uow() as tx:
        merchant = await load_merchant(tx, merchant_id)
    return MethodsPublic(merchant_id=merchant.id, methods=list(merchant.enabled_methods))


@router.put("/{merchant_id}/methods", response_model=MethodsPublic)
async def set_methods(
    c: ContainerDep, _: OperatorDep, merchant_id: str, body: Annotated[MethodsBody, Body()]
) -> MethodsPublic:
    known = {m.value for m in Method}
    for i, name in enumerate(body.methods):
        if name not in known:
            raise InvalidRequest(f"unknown method {name!r}", code="method_unknown", param=f"methods.{i}")
    methods = sorted(set(body.methods), key=[m.value for m in Method].index)
    async with c.uow() as tx:
        merchant = await load_merchant(tx, merchant_id, lock=True)
        merchant.enabled_methods = methods
        merchant.updated_at = c.clock.now()
        await tx.commit()
    return MethodsPublic(merchant_id=merchant_id, methods=methods)
