"""A payment as the API answers it: the payment with its attempts (payments) and its refunds
(refunds), read in one transaction. Built here, where responses are built, because the money chain
runs one way: payments know nothing of refunds."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tongbao.container import Container
from tongbao.errors import NotFound
from tongbao.merchants.app_service import Caller
from tongbao.merchants.pagination import Cursor, Window, newest_first, page_body, take
from tongbao.payments.domain import PaymentStatus
from tongbao.payments.models import Payment, PaymentAttempt
from tongbao.payments.service import PaymentService
from tongbao.payments.store import attempts_of, load_payment
from tongbao.payments.views import payment_public
from tongbao.refunds.payment_view import refunds_part


async def payment_view(c: Container, payment_id: str, merchant_id: str | None = None) -> dict[str, Any]:
    async with c.uow() as tx:
        payment = await load_payment(tx, payment_id, merchant_id)
        attempts = await attempts_of(tx, payment_id)
        refunds, refundable = await refunds_part(tx, payment)
    action = PaymentService(c).action_of(payment, attempts)
    return payment_public(payment, attempts, action, refunds, refundable=refundable)


def fresh_payment_view(c: Container, payment: Payment, attempts: list[PaymentAttempt]) -> dict[str, Any]:
    """A payment just created, from what its creation wrote: nothing is captured or refunded yet,
    so there is nothing more to read."""
    assert payment.captured_attempt_id is None
    action = PaymentService(c).action_of(payment, attempts)
    return payment_public(payment, attempts, action, [], refundable=0)


async def payment_view_by_out_trade_no(c: Container, app_id: str, out_trade_no: str) -> dict[str, Any]:
    async with c.uow() as tx:
        payment_id = await tx.scalar(
            select(Payment.id).where(Payment.app_id == app_id, Payment.out_trade_no == out_trade_no)
        )
    if payment_id is None:
        raise NotFound("no payment with this out_trade_no", code="payment_not_found", param="out_trade_no")
    return await payment_view(c, payment_id)


async def list_payments(
    c: Container, caller: Caller, window: Window, status: PaymentStatus | None
) -> dict[str, Any]:
    """The calling app's payments (those it could find by out_trade_no), each as its own GET shows it."""
    stmt = select(Payment.id, Payment.created_at).where(Payment.app_id == caller.app.id)
    if status is not None:
        stmt = stmt.where(Payment.status == status.value)
    async with c.uow() as tx:
        rows = (await tx.execute(newest_first(stmt, Payment.created_at, Payment.id, window))).all()
    piece = take(rows, window, lambda row: Cursor(row.created_at, row.id))
    # Each one through the single-payment view, so that a listed payment is exactly what
    # GET /v1/payments/{id} answers (a page is at most 100 of them).
    return page_body([await payment_view(c, row.id, caller.merchant.id) for row in piece.rows], piece)
