"""Which channel account serves a merchant's payment by a method.

The merchant's own enabled account on the method's channel is preferred (money goes straight to
the merchant); otherwise the account bound to the merchant for that channel (usually the
platform's shared one). An account is skipped when the payment is over its single-payment limit
or would take it over its daily limit (pending and succeeded attempts of the Beijing business day).
Candidate accounts with a daily limit are locked while the choice is made, so two payments cannot
both squeeze under the same limit; an account without one is not locked, so that payments through
the platform's busiest shared account do not queue behind each other.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tongbao.channels.kinds import Method
from tongbao.db.locks import Rank, lock_rows
from tongbao.errors import InvalidRequest
from tongbao.merchants.domain.channel_accounts import AccountMode
from tongbao.merchants.models import ChannelAccount, Merchant, MerchantChannelBinding
from tongbao.payments.domain import AttemptStatus
from tongbao.payments.models import PaymentAttempt

BEIJING = timezone(timedelta(hours=8))


def business_day_start(now: datetime) -> datetime:
    """Midnight in Beijing of the business day ``now`` falls in, as an aware datetime."""
    return datetime.combine(now.astimezone(BEIJING).date(), time(0), tzinfo=BEIJING)


def _build_candidates() -> Select[Any]:
    bound = (
        select(MerchantChannelBinding.channel_account_id)
        .where(
            MerchantChannelBinding.merchant_id == bindparam("merchant_id"),
            MerchantChannelBinding.channel == bindparam("channel"),
        )
        .scalar_subquery()
    )
    own = and_(
        ChannelAccount.merchant_id == bindparam("merchant_id"), ChannelAccount.mode == AccountMode.OWN.value
    )
    return select(ChannelAccount).where(
        ChannelAccount.channel == bindparam("channel"),
        ChannelAccount.enabled.is_(True),
        or_(own, ChannelAccount.id == bound),
    )


# Built once: every creation runs it with its own merchant and channel.
_CANDIDATES = _build_candidates()


async def _candidates(tx: AsyncSession, merchant: Merchant, method: Method) -> list[ChannelAccount]:
    """The merchant's own enabled accounts on the channel (by id), then the bound one: one query."""
    rows: list[ChannelAccount] = list(
        await tx.scalars(_CANDIDATES, {"merchant_id": merchant.id, "channel": method.channel.value})
    )
    return sorted(rows, key=lambda a: (a.merchant_id != merchant.id or a.mode != AccountMode.OWN.value, a.id))


async def _taken_today(tx: AsyncSession, account: ChannelAccount, now: datetime) -> int:
    total = await tx.scalar(
        select(func.coalesce(func.sum(PaymentAttempt.amount), 0)).where(
            PaymentAttempt.channel_account_id == account.id,
            PaymentAttempt.created_at >= business_day_start(now),
            PaymentAttempt.status.in_([AttemptStatus.PENDING.value, AttemptStatus.SUCCEEDED.value]),
        )
    )
    return int(total or 0)


async def account_for(
    tx: AsyncSession, merchant: Merchant, method: Method, amount: int, now: datetime
) -> ChannelAccount:
    if method.value not in (merchant.enabled_methods or []):
        raise InvalidRequest(
            f"{method.value} is not enabled for this merchant", code="method_not_enabled", param="method"
        )
    candidates = await _candidates(tx, merchant, method)
    if not candidates:
        raise InvalidRequest(
            f"no enabled {method.channel.value} channel account serves this merchant",
            code="channel_account_missing",
            param="method",
        )
    # Row locks in id order, the order every payment takes them in; then the choice in preference order.
    limited = [a.id for a in candidates if a.daily_max_amount is not None]
    if limited:
        await lock_rows(tx, Rank.CHANNEL_ACCOUNT, ChannelAccount, limited)
    for account in candidates:
        if account.single_max_amount is not None and amount > account.single_max_amount:
            continue
        if account.daily_max_amount is not None:
            if await _taken_today(tx, account, now) + amount > account.daily_max_amount:
                continue
        return account
    raise InvalidRequest(
        "the amount is over what this merchant's channel accounts may take now (per payment or per day)",
        code="channel_limit_exceeded",
        param="amount",
    )
