"""Which fee plan charged a capture, and which channel-cost plan: the one in effect at its time.

A merchant's own plan for the method comes first, then the platform's default for the method
(``merchant_id`` NULL); with neither, no fee. Plans have effective dates, so a plan written today
never changes what an earlier payment was charged, and a refund finds the plan its capture had.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tongbao.db.statements import table_of
from tongbao.ledger.domain import ZERO, FeeRule, RefundMode
from tongbao.ledger.models import ChannelCostPlan, FeePlan

_FEES = table_of(FeePlan)
_COSTS = table_of(ChannelCostPlan)


def _in_effect(table: Any) -> Any:
    at = bindparam("at", type_=table.c.effective_from.type)
    return (table.c.effective_from <= at) & or_(table.c.effective_to.is_(None), table.c.effective_to > at)


_FEE_IN_EFFECT = (
    select(_FEES)
    .where(
        _FEES.c.method == bindparam("method"),
        or_(_FEES.c.merchant_id == bindparam("merchant_id"), _FEES.c.merchant_id.is_(None)),
        _in_effect(_FEES),
    )
    # The merchant's own plan before the platform's default (NULLs sort last on both databases here).
    .order_by(_FEES.c.merchant_id.is_(None), _FEES.c.effective_from.desc())
    .limit(1)
)
_COST_IN_EFFECT = (
    select(_COSTS)
    .where(_COSTS.c.channel_account_id == bindparam("channel_account_id"), _in_effect(_COSTS))
    .order_by(_COSTS.c.effective_from.desc())
    .limit(1)
)


def rule_of(row: Any) -> FeeRule:
    return FeeRule(row.rate_bps, row.minimum, row.cap, RefundMode(row.refund_mode))


async def fee_rule(tx: AsyncSession, merchant_id: str, method: str, at: datetime) -> FeeRule:
    row = (await tx.execute(_FEE_IN_EFFECT, {"method": method, "merchant_id": merchant_id, "at": at})).first()
    return rule_of(row) if row is not None else ZERO


async def cost_rule(tx: AsyncSession, channel_account_id: str, at: datetime) -> FeeRule:
    row = (await tx.execute(_COST_IN_EFFECT, {"channel_account_id": channel_account_id, "at": at})).first()
    return rule_of(row) if row is not None else ZERO
