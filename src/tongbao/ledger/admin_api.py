"""``/admin/v1/ledger``: accounts (with balances; freeze and unfreeze), entries with their postings,
and the hash chain's head; ``/admin/v1/fee-plans`` and channel accounts' cost plans."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from tongbao.api.deps import ContainerDep, OperatorDep
from tongbao.ledger.accounts_admin import freeze_account, list_accounts, unfreeze_account
from tongbao.ledger.chain_head import chain_head
from tongbao.ledger.models import ChannelCostPlan, FeePlan
from tongbao.ledger.plan_service import PlanService
from tongbao.ledger.reading import list_entries, show_account, show_entry
from tongbao.ledger.schemas import (
    AccountPublic,
    AccountsPublic,
    ChainHead,
    CostPlanCreate,
    EntriesPublic,
    EntryPublic,
    FeePlanCreate,
    FreezeBody,
    PlanEnd,
    PlanPublic,
    PlansPublic,
)
from tongbao.merchants.pagination import WindowDep

router = APIRouter(prefix="/admin/v1", tags=["admin: ledger"])

IdFilter = Annotated[str | None, Query(max_length=40)]
AccountFilter = Annotated[str | None, Query(max_length=120)]


@router.get("/ledger/accounts", response_model=AccountsPublic)
async def admin_list_accounts(
    c: ContainerDep,
    _: OperatorDep,
    *,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    starting_after: AccountFilter = None,
    merchant_id: IdFilter = None,
    channel_account_id: IdFilter = None,
    purpose: Annotated[str | None, Query(max_length=32)] = None,
) -> dict[str, Any]:
    """By id, a page at a time (``starting_after``: the last id seen)."""
    filters = {"merchant_id": merchant_id, "channel_account_id": channel_account_id, "purpose": purpose}
    return await list_accounts(c, limit, starting_after, filters)


@router.get("/ledger/accounts/{account_id}", response_model=AccountPublic)
async def admin_get_account(c: ContainerDep, _: OperatorDep, account_id: str) -> dict[str, Any]:
    return await show_account(c, account_id)


@router.post("/ledger/accounts/{account_id}/freeze", response_model=AccountPublic)
async def admin_freeze_account(
    c: ContainerDep, operator: OperatorDep, account_id: str, body: FreezeBody
) -> dict[str, Any]:
    """No entry may post to a frozen account: what would, is refused and rolled back."""
    return await freeze_account(c, account_id, body.reason, operator.name)


@router.post("/ledger/accounts/{account_id}/unfreeze", response_model=AccountPublic)
async def admin_unfreeze_account(c: ContainerDep, operator: OperatorDep, account_id: str) -> dict[str, Any]:
    return await unfreeze_account(c, account_id, operator.name)


@router.get("/ledger/entries", response_model=EntriesPublic)
async def admin_list_entries(
    c: ContainerDep,
    _: OperatorDep,
    window: WindowDep,
    *,
    kind: Annotated[str | None, Query(max_length=32)] = None,
    merchant_id: IdFilter = None,
    payment_id: IdFilter = None,
    refund_id: IdFilter = None,
    account_id: AccountFilter = None,
) -> dict[str, Any]:
    """Newest first, each with its postings."""
    filters = {
        "kind": kind,
        "merchant_id": merchant_id,
        "payment_id": payment_id,
        "refund_id": refund_id,
        "account_id": account_id,
    }
    return await list_entries(c, window, filters)


@router.get("/ledger/entries/{entry_id}", response_model=EntryPublic)
async def admin_get_entry(c: ContainerDep, _: OperatorDep, entry_id: str) -> dict[str, Any]:
    return await show_entry(c, entry_id)


@router.get("/ledger/chain", response_model=ChainHead)
async def admin_chain_head(c: ContainerDep, _: OperatorDep) -> dict[str, Any]:
    """The hash chain's head, to publish or anchor elsewhere."""
    return await chain_head(c)


@router.post("/fee-plans", status_code=status.HTTP_201_CREATED, response_model=PlanPublic)
async def admin_create_fee_plan(
    c: ContainerDep, operator: OperatorDep, body: FeePlanCreate
) -> dict[str, Any]:
    """A rate in basis points with a minimum and an optional cap, per merchant and method (or the
    platform's default for a method), from ``effective_from`` on."""
    return await PlanService(c).create_fee_plan(operator.name, body.model_dump())


@router.get("/fee-plans", response_model=PlansPublic)
async def admin_list_fee_plans(
    c: ContainerDep,
    _: OperatorDep,
    merchant_id: IdFilter = None,
    method: Annotated[str | None, Query(max_length=32)] = None,
) -> dict[str, Any]:
    return {"data": await PlanService(c).list_fee_plans(merchant_id, method)}


@router.post("/fee-plans/{plan_id}/end", response_model=PlanPublic)
async def admin_end_fee_plan(c: ContainerDep, _: OperatorDep, plan_id: str, body: PlanEnd) -> dict[str, Any]:
    return await PlanService(c).end(FeePlan, plan_id, body.effective_to)


@router.post(
    "/channel-accounts/{channel_account_id}/cost-plans",
    status_code=status.HTTP_201_CREATED,
    response_model=PlanPublic,
)
async def admin_create_cost_plan(
    c: ContainerDep, operator: OperatorDep, channel_account_id: str, body: CostPlanCreate
) -> dict[str, Any]:
    """What the channel charges the platform per capture through this account."""
    return await PlanService(c).create_cost_plan(operator.name, channel_account_id, body.model_dump())


@router.get("/channel-accounts/{channel_account_id}/cost-plans", response_model=PlansPublic)
async def admin_list_cost_plans(c: ContainerDep, _: OperatorDep, channel_account_id: str) -> dict[str, Any]:
    return {"data": await PlanService(c).list_cost_plans(channel_account_id)}


@router.post("/channel-accounts/{channel_account_id}/cost-plans/{plan_id}/end", response_model=PlanPublic)
async def admin_end_cost_plan(
    c: ContainerDep, _: OperatorDep, channel_account_id: str, plan_id: str, body: PlanEnd
) -> dict[str, Any]:
    return await PlanService(c).end(ChannelCostPlan, plan_id, body.effective_to)
