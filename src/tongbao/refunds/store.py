"""Reading what a refund's view needs besides the refund, inside a caller's transaction."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from tongbao.db.locks import Rank, lock_row
from tongbao.merchants.models import App
from tongbao.payments.models import Payment
from tongbao.refunds.models import Refund
from tongbao.refunds.views import notify_url_for


async def lock_refund(tx: AsyncSession, refund_id: str) -> Refund | None:
    return await lock_row(tx, Rank.REFUND, Refund, refund_id)


async def notify_url_of(tx: AsyncSession, refund: Refund, payment: Payment) -> str | None:
    app = await tx.get(App, payment.app_id)  # one read per app in a transaction (identity map)
    return notify_url_for(refund, payment, app)
