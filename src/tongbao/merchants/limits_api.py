"""``/admin/v1/channel-accounts/{id}/limits``: how much one account may take, per payment and per day."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body
from pydantic import BaseModel, Field

from tongbao.api.deps import ContainerDep, OperatorDep
from tongbao.merchants.channel_service import load_account
from tongbao.money import MAX_AMOUNT

router = APIRouter(prefix="/admin/v1/channel-accounts", tags=["admin: channel accounts"])

Amount = Annotated[int | None, Field(default=None, ge=1, le=MAX_AMOUNT * 10_000, strict=True)]


class Limits(BaseModel):
    single_max_amount: Amount = None
    daily_max_amount: Amount = None


@router.put("/{account_id}/limits", response_model=Limits)
async def set_channel_account_limits(
    c: ContainerDep, _: OperatorDep, account_id: str, body: Annotated[Limits, Body()]
) -> Limits:
    """Null removes a limit. Limits apply to payments created from now on."""
    async with c.uow() as tx:
        account = await load_account(tx, account_id, lock=True)
        account.single_max_amount = body.single_max_amount
        account.daily_max_amount = body.daily_max_amount
        account.updated_at = c.clock.now()
        await tx.commit()
    return body
