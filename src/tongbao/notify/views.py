"""Notifications as the APIs show them: the event, its status, and every delivery attempt."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tongbao.errors import NotFound
from tongbao.notify.events import iso
from tongbao.notify.models import NotificationDelivery, NotificationEvent


def delivery_public(d: NotificationDelivery) -> dict[str, Any]:
    return {
        "attempt": d.attempt,
        "trigger": d.trigger,
        "url": d.url,
        "attempted_at": iso(d.attempted_at),
        "http_status": d.http_status,
        "latency_ms": d.latency_ms,
        "error": d.error,
    }


async def event_public(tx: AsyncSession, event: NotificationEvent) -> dict[str, Any]:
    deliveries = list(
        await tx.scalars(
            select(NotificationDelivery)
            .where(NotificationDelivery.event_id == event.id)
            .order_by(NotificationDelivery.attempt)
        )
    )
    return {
        "id": event.id,
        "type": event.type,
        "payment_id": event.payment_id,
        "status": event.status,
        "notify_url": event.notify_url,
        # Every delivery made, resends included (the event's own counter drives only its schedule).
        "attempts": len(deliveries),
        "next_attempt_at": iso(event.next_attempt_at) if event.next_attempt_at else None,
        "delivered_at": iso(event.delivered_at) if event.delivered_at else None,
        "created_at": iso(event.created_at),
        "event": json.loads(event.body),
        "deliveries": [delivery_public(d) for d in deliveries],
    }


async def load_event(tx: AsyncSession, event_id: str, merchant_id: str | None) -> NotificationEvent:
    event = await tx.get(NotificationEvent, event_id)
    if event is None or (merchant_id is not None and event.merchant_id != merchant_id):
        raise NotFound("no such notification", code="notification_not_found", param="event_id")
    return event
