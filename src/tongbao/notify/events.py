"""Recording a merchant notification in the transaction of the change it tells about (the outbox)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Final

from sqlalchemy.ext.asyncio import AsyncSession

from tongbao.ids import new_id
from tongbao.jobs.payloads import JobPayload, schedule
from tongbao.notify.models import NotificationEvent
from tongbao.timestamps import instant


@dataclass(frozen=True)
class DeliverEvent(JobPayload):
    """Delivers (or retries delivering) one event to the merchant's endpoint."""

    KIND: ClassVar[str] = "notify.deliver"
    event_id: str

    def dedupe_key(self) -> str:
        return f"notify:{self.event_id}"


EVENT_TYPES: Final = ("payment.succeeded", "payment.closed", "refund.succeeded", "refund.failed")


def iso(moment: datetime) -> str:
    return instant(moment)


async def record_event(
    tx: AsyncSession,
    *,
    type: str,
    merchant_id: str,
    app_id: str,
    data: dict[str, Any],
    notify_url: str | None,
    now: datetime,
    payment_id: str | None = None,
) -> NotificationEvent:
    assert type in EVENT_TYPES, type
    event_id = new_id("event")
    body = {"id": event_id, "type": type, "created_at": iso(now), "data": data}
    event = NotificationEvent(
        id=event_id,
        merchant_id=merchant_id,
        app_id=app_id,
        type=type,
        payment_id=payment_id,
        body=json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        notify_url=notify_url,
        status="pending" if notify_url else "no_endpoint",
        attempts=0,
        next_attempt_at=now if notify_url else None,
        created_at=now,
        updated_at=now,
    )
    tx.add(event)
    if notify_url:
        # The schedule lives on the event; the job only carries it out, so it may retry often.
        await schedule(tx, DeliverEvent(event_id), now=now, max_attempts=1_000)
    return event
