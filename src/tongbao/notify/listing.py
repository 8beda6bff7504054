"""Listing notifications newest first, a page at a time, for merchants and operators."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from tongbao.container import Container
from tongbao.merchants.pagination import Cursor, Window, newest_first, page_body, take
from tongbao.notify.delivery import EventStatus
from tongbao.notify.models import NotificationEvent
from tongbao.notify.views import event_public


@dataclass(frozen=True)
class EventFilter:
    status: EventStatus | None = None
    payment_id: str | None = None
    merchant_id: str | None = None
    app_id: str | None = None


async def list_events(c: Container, window: Window, filters: EventFilter) -> dict[str, Any]:
    stmt = select(NotificationEvent)
    for column, wanted in (
        (NotificationEvent.status, filters.status),
        (NotificationEvent.payment_id, filters.payment_id),
        (NotificationEvent.merchant_id, filters.merchant_id),
        (NotificationEvent.app_id, filters.app_id),
    ):
        if wanted is not None:
            stmt = stmt.where(column == wanted)
    stmt = newest_first(stmt, NotificationEvent.created_at, NotificationEvent.id, window)
    async with c.uow() as tx:
        piece = take(list(await tx.scalars(stmt)), window, lambda e: Cursor(e.created_at, e.id))
        return page_body([await event_public(tx, e) for e in piece.rows], piece)
