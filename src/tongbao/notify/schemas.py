"""Response shapes of the notification endpoints, for the OpenAPI document."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from tongbao.merchants.pagination import Listed
from tongbao.notify.delivery import EventStatus, Trigger


class DeliveryPublic(BaseModel):
    attempt: int
    trigger: Trigger
    url: str
    attempted_at: str
    http_status: int | None
    latency_ms: int
    error: str | None


class NotificationPublic(BaseModel):
    id: str
    type: str = Field(description="payment.succeeded, refund.failed, …")
    payment_id: str | None
    status: EventStatus
    notify_url: str | None
    attempts: int = Field(description="Every delivery made, resends included")
    next_attempt_at: str | None
    delivered_at: str | None
    created_at: str
    event: dict[str, Any] = Field(description="The signed JSON body as delivered; its shape follows type")
    deliveries: list[DeliveryPublic]


class NotificationsPublic(Listed[NotificationPublic]):
    """A page of the list, newest first."""
