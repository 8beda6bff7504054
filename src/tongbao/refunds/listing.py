"""Listing refunds newest first, a page at a time: an app's own (merchant API), anyone's (operators)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tongbao.container import Container
from tongbao.errors import NotFound
from tongbao.merchants.app_service import Caller
from tongbao.merchants.pagination import Cursor, Window, newest_first, page_body, take
from tongbao.payments.models import Payment
from tongbao.refunds.domain import RefundKind, RefundStatus
from tongbao.refunds.models import Refund
from tongbao.refunds.store import notify_url_of
from tongbao.refunds.views import refund_admin, refund_public


@dataclass(frozen=True)
class RefundFilter:
    status: RefundStatus | None = None
    kind: RefundKind | None = None
    payment_id: str | None = None
    merchant_id: str | None = None
    app_id: str | None = None


async def _payments_of(tx: AsyncSession, refunds: list[Refund]) -> dict[str, Payment]:
    ids = {r.payment_id for r in refunds}
    if not ids:
        return {}
    return {p.id: p for p in await tx.scalars(select(Payment).where(Payment.id.in_(ids)))}


async def _page(
    c: Container, filters: RefundFilter, window: Window, *, admin: bool
) -> tuple[list[dict[str, Any]], Any]:
    stmt = select(Refund)
    for column, wanted in (
        (Refund.status, filters.status),
        (Refund.kind, filters.kind),
        (Refund.payment_id, filters.payment_id),
        (Refund.merchant_id, filters.merchant_id),
        (Refund.app_id, filters.app_id),
    ):
        if wanted is not None:
            stmt = stmt.where(column == wanted)
    async with c.uow() as tx:
        rows = list(await tx.scalars(newest_first(stmt, Refund.created_at, Refund.id, window)))
        piece = take(rows, window, lambda r: Cursor(r.created_at, r.id))
        payments = await _payments_of(tx, piece.rows)
        shown = []
        for refund in piece.rows:
            payment = payments[refund.payment_id]
            view = refund_admin if admin else refund_public
            url = await notify_url_of(tx, refund, payment)
            shown.append(view(refund, payment.out_trade_no, notify_url=url))
    return shown, piece


async def list_refunds(
    c: Container, caller: Caller, window: Window, status: RefundStatus | None, payment_id: str | None
) -> dict[str, Any]:
    """The calling app's refunds (those it could find by out_refund_no), as GET /v1/refunds/{id}
    shows each."""
    filters = RefundFilter(status, RefundKind.MERCHANT, payment_id, caller.merchant.id, caller.app.id)
    shown, piece = await _page(c, filters, window, admin=False)
    return page_body(shown, piece)


async def list_all_refunds(c: Container, window: Window, filters: RefundFilter) -> dict[str, Any]:
    """Every refund, Tongbao's own returns of captures the merchant never owned included."""
    shown, piece = await _page(c, filters, window, admin=True)
    return page_body(shown, piece)


async def show_refund(c: Container, refund_id: str) -> dict[str, Any]:
    async with c.uow() as tx:
        refund = await tx.get(Refund, refund_id)
        if refund is None:
            raise NotFound("no such refund", code="refund_not_found", param="refund_id")
        payment = (await _payments_of(tx, [refund]))[refund.payment_id]
        return refund_admin(refund, payment.out_trade_no, notify_url=await notify_url_of(tx, refund, payment))
