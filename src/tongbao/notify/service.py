"""Notification use cases shared by the merchant and the admin API: show, resend (lists: ``listing``)."""

from __future__ import annotations

from typing import Any

from tongbao.container import Container
from tongbao.errors import Conflict
from tongbao.notify.delivery import Trigger, deliver
from tongbao.notify.views import event_public, load_event


async def show_event(c: Container, event_id: str, merchant_id: str | None) -> dict[str, Any]:
    async with c.uow() as tx:
        return await event_public(tx, await load_event(tx, event_id, merchant_id))


async def resend(c: Container, event_id: str, merchant_id: str | None) -> dict[str, Any]:
    """One delivery attempt now, whatever the event's state; the answer shows how it went."""
    async with c.uow() as tx:
        event = await load_event(tx, event_id, merchant_id)
    if event.notify_url is None:
        raise Conflict("this notification has no notify URL to send to", code="notify_url_missing")
    await deliver(c, event_id, Trigger.RESEND)
    return await show_event(c, event_id, merchant_id)
