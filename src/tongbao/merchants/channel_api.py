"""Operator API for channel accounts: WeChat Pay, Alipay and UnionPay, own or shared."""

from __future__ import annotations

from fastapi import APIRouter, status

from tongbao.api.deps import ContainerDep, OperatorDep
from tongbao.channels.kinds import Channel
from tongbao.merchants.channel_service import ChannelAccountService
from tongbao.merchants.domain.channel_accounts import CREDENTIAL_FIELDS
from tongbao.merchants.models import ChannelAccount
from tongbao.merchants.pagination import PageDep, cut
from tongbao.merchants.schemas import (
    ChannelAccountCreate,
    ChannelAccountPublic,
    ChannelAccountsPublic,
    ChannelAccountUpdate,
    CredentialsReplace,
)

router = APIRouter(prefix="/admin/v1/channel-accounts", tags=["admin: channel accounts"])


def _public(account: ChannelAccount) -> ChannelAccountPublic:
    fields = [f.name for f in CREDENTIAL_FIELDS[Channel(account.channel)]]
    return ChannelAccountPublic.model_validate({**_columns(account), "credential_fields": fields})


def _columns(account: ChannelAccount) -> dict[str, object]:
    names = ChannelAccountPublic.model_fields.keys() - {"credential_fields"}
    return {name: getattr(account, name) for name in names}


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ChannelAccountPublic)
async def create_channel_account(body: ChannelAccountCreate, c: ContainerDep, _: OperatorDep) -> object:
    account = await ChannelAccountService(c).create(
        name=body.name,
        channel=body.channel,
        mode=body.mode,
        merchant_id=body.merchant_id,
        base_url=body.base_url,
        config=body.config,
        credentials=body.credentials,
    )
    return _public(account)


@router.get("", response_model=ChannelAccountsPublic)
async def list_channel_accounts(
    c: ContainerDep,
    _: OperatorDep,
    page: PageDep,
    channel: Channel | None = None,
    merchant_id: str | None = None,
) -> object:
    rows, more = cut(await ChannelAccountService(c).list_accounts(page, channel, merchant_id), page)
    return ChannelAccountsPublic(data=[_public(r) for r in rows], has_more=more)


@router.get("/{account_id}", response_model=ChannelAccountPublic)
async def get_channel_account(account_id: str, c: ContainerDep, _: OperatorDep) -> object:
    return _public(await ChannelAccountService(c).get(account_id))


@router.patch("/{account_id}", response_model=ChannelAccountPublic)
async def update_channel_account(
    account_id: str, body: ChannelAccountUpdate, c: ContainerDep, _: OperatorDep
) -> object:
    # Every field of an account is required: an explicit null is refused, not ignored.
    return _public(await ChannelAccountService(c).update(account_id, body.model_dump(exclude_unset=True)))


@router.put("/{account_id}/credentials", response_model=ChannelAccountPublic)
async def replace_channel_credentials(
    account_id: str, body: CredentialsReplace, c: ContainerDep, _: OperatorDep
) -> object:
    return _public(await ChannelAccountService(c).replace_credentials(account_id, body.credentials))
