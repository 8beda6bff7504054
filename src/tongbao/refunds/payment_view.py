"""The refunds part of a payment's view: its merchant refunds and what may still be refunded."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tongbao.payments.models import Payment
from tongbao.refunds.opening import refundable_of
from tongbao.refunds.service import refunds_of
from tongbao.refunds.store import notify_url_of
from tongbao.refunds.views import refund_public


async def refunds_part(tx: AsyncSession, payment: Payment) -> tuple[list[dict[str, Any]], int]:
    refunds = [
        refund_public(r, payment.out_trade_no, notify_url=await notify_url_of(tx, r, payment))
        for r in await refunds_of(tx, payment.id)
    ]
    return refunds, await refundable_of(tx, payment)
