"""Reading payments and their attempts inside a caller's transaction."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tongbao.db.locks import Rank, lock_row
from tongbao.errors import NotFound
from tongbao.payments.models import Payment, PaymentAttempt


async def lock_payment(tx: AsyncSession, payment_id: str) -> Payment | None:
    return await lock_row(tx, Rank.PAYMENT, Payment, payment_id)


async def lock_attempt(tx: AsyncSession, attempt_id: str) -> PaymentAttempt | None:
    return await lock_row(tx, Rank.ATTEMPT, PaymentAttempt, attempt_id)


async def load_payment(
    tx: AsyncSession, payment_id: str, merchant_id: str | None = None, *, lock: bool = False
) -> Payment:
    if lock:
        payment = await lock_payment(tx, payment_id)
        if payment is not None and merchant_id is not None and payment.merchant_id != merchant_id:
            payment = None
    else:
        stmt = select(Payment).where(Payment.id == payment_id)
        if merchant_id is not None:
            stmt = stmt.where(Payment.merchant_id == merchant_id)
        payment = await tx.scalar(stmt)
    if payment is None:
        raise NotFound("no such payment", code="payment_not_found", param="payment_id")
    return payment


async def attempts_of(tx: AsyncSession, payment_id: str) -> list[PaymentAttempt]:
    rows = await tx.scalars(
        select(PaymentAttempt).where(PaymentAttempt.payment_id == payment_id).order_by(PaymentAttempt.id)
    )
    return list(rows)
