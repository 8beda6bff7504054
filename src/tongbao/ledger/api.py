"""``GET /v1/balance`` and ``GET /v1/balance/transactions``: what the platform holds for the calling
merchant, and every line that moved it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from tongbao.api.deps import CallerDep, ContainerDep
from tongbao.ledger.reading import balance_transactions, merchant_balance
from tongbao.ledger.schemas import BalancePublic, BalanceTransactions
from tongbao.merchants.pagination import WindowDep

router = APIRouter(prefix="/v1/balance", tags=["merchant API"])


@router.get("", response_model=BalancePublic)
async def get_balance(c: ContainerDep, caller: CallerDep) -> dict[str, Any]:
    """Per currency: pending (owed, not yet matured), available, reserve, and fees owed to the
    platform on payments through the merchant's own channel accounts."""
    return await merchant_balance(c, caller.merchant.id)


@router.get("/transactions", response_model=BalanceTransactions)
async def get_balance_transactions(c: ContainerDep, caller: CallerDep, window: WindowDep) -> dict[str, Any]:
    """Newest first: each capture and refund with its gross, fee and net."""
    return await balance_transactions(c, caller.merchant.id, window)
