"""Listing an app's payments, newest first, a page at a time."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tongbao.bootstrap import Container
from tongbao.merchants.app_service import Caller
from tongbao.merchants.pagination import Cursor, Window, newest_first, page_body, take
from tongbao.payments.domain import PaymentStatus
from tongbao.payments.models import Payment
from tongbao.payments.service import PaymentService


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
    service = PaymentService(c)
    return page_body([await service.view(row.id, caller.merchant.id) for row in piece.rows], piece)
