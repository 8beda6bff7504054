"""Which channel account serves a merchant's payment by a method."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tongbao.channels.base import Method
from tongbao.errors import InvalidRequest
from tongbao.merchants.models import ChannelAccount, Merchant, MerchantChannelBinding


async def account_for(tx: AsyncSession, merchant: Merchant, method: Method) -> ChannelAccount:
    if method.value not in (merchant.enabled_methods or []):
        raise InvalidRequest(
            f"{method.value} is not enabled for this merchant", code="method_not_enabled", param="method"
        )
    binding = await tx.scalar(
        select(MerchantChannelBinding).where(
            MerchantChannelBinding.merchant_id == merchant.id,
            MerchantChannelBinding.channel == method.channel.value,
        )
    )
    account = None if binding is None else await tx.get(ChannelAccount, binding.channel_account_id)
    if account is None or not account.enabled:
        raise InvalidRequest(
            f"no enabled {method.channel.value} channel account is bound to this merchant",
            code="channel_account_missing",
            param="method",
        )
    return account
