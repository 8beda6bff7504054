"""Delivering a notification: one signed POST to the merchant's notify URL, logged.

Deliveries to one endpoint are bounded (see ``EndpointPool``) and every POST has a timeout.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import httpx
from sqlalchemy import func, select

from tongbao.container import Container
from tongbao.ids import new_id
from tongbao.merchants.app_service import AppService
from tongbao.notify.endpoints import EndpointPool
from tongbao.notify.models import NotificationDelivery, NotificationEvent
from tongbao.notify.schedule import delay_after
from tongbao.security import signing


class Trigger(StrEnum):
    SCHEDULE = "schedule"
    RESEND = "resend"


class EventStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    NO_ENDPOINT = "no_endpoint"


@dataclass(frozen=True)
class Outcome:
    status: EventStatus
    next_attempt_at: datetime | None
    delivery: NotificationDelivery | None  # None: the endpoint was busy, nothing was sent


async def _post(
    c: Container, pool: EndpointPool, event: NotificationEvent, url: str
) -> tuple[int | None, str | None, int]:
    caller = await AppService(c).caller(event.app_id)
    if caller is None or not caller.secrets:
        return None, "the app has no live secret to sign with", 0
    body = event.body.encode()
    timestamp, nonce = int(c.clock.now().timestamp()), signing.new_nonce()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Tongbao-Notify",
        signing.HEADER_TIMESTAMP: str(timestamp),
        signing.HEADER_NONCE: nonce,
        signing.HEADER_SIGNATURE: signing.hmac_sign(
            caller.secrets[0], signing.response_message(timestamp, nonce, body)
        ),
    }
    started = time.monotonic()
    try:
        response = await pool.http.post(url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500], int((time.monotonic() - started) * 1000)
    latency_ms = int((time.monotonic() - started) * 1000)
    error = None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
    return response.status_code, error, latency_ms


async def deliver(c: Container, event_id: str, trigger: Trigger) -> Outcome:
    pool = c.endpoints
    async with c.uow() as tx:
        event = await tx.get(NotificationEvent, event_id)
    if event is None:
        raise LookupError(event_id)
    url = event.notify_url
    if url is None:
        return Outcome(EventStatus(event.status), None, None)
    if trigger is Trigger.SCHEDULE and event.status != EventStatus.PENDING:
        return Outcome(EventStatus(event.status), None, None)
    limit = pool.limit(url)
    if trigger is Trigger.SCHEDULE and limit.crowded:
        # Back when the deliveries ahead of it could have ended; no attempt is used up.
        return Outcome(EventStatus.PENDING, c.clock.now() + timedelta(seconds=pool.timeout_s), None)
    attempted_at = c.clock.now()
    async with limit:
        status_code, error, latency_ms = await _post(c, pool, event, url)
    now = c.clock.now()
    async with c.uow() as tx:
        event = await tx.get(NotificationEvent, event_id, with_for_update=True)
        assert event is not None
        count = await tx.scalar(select(func.count()).where(NotificationDelivery.event_id == event_id))
        delivery = NotificationDelivery(
            id=new_id("delivery"),
            event_id=event_id,
            attempt=int(count or 0) + 1,
            trigger=trigger.value,
            url=url,
            attempted_at=attempted_at,
            http_status=status_code,
            latency_ms=latency_ms,
            error=error,
        )
        tx.add(delivery)
        if error is None:
            event.status = EventStatus.DELIVERED
            event.delivered_at = now
            event.next_attempt_at = None
        elif trigger is Trigger.SCHEDULE and event.status == EventStatus.PENDING:
            event.attempts += 1
            delay = delay_after(event.attempts)
            if delay is None:
                event.status = EventStatus.FAILED
                event.next_attempt_at = None
            else:
                event.next_attempt_at = now + timedelta(seconds=delay)
        event.updated_at = now
        await tx.commit()
    return Outcome(EventStatus(event.status), event.next_attempt_at, delivery)
