"""Notification endpoints: merchants (``/v1``) and operators (``/admin/v1``) see and resend them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from tongbao.api.deps import CallerDep, ContainerDep, OperatorDep
from tongbao.merchants.pagination import WindowDep
from tongbao.notify import service
from tongbao.notify.delivery import EventStatus
from tongbao.notify.listing import EventFilter, list_events
from tongbao.notify.schemas import NotificationPublic, NotificationsPublic

router = APIRouter(prefix="/v1/notifications", tags=["merchant API: notifications"])
admin_router = APIRouter(prefix="/admin/v1/notifications", tags=["admin: notifications"])

IdFilter = Annotated[str | None, Query(max_length=40)]


@router.get("", response_model=NotificationsPublic)
async def list_notifications(
    c: ContainerDep,
    caller: CallerDep,
    window: WindowDep,
    *,
    payment_id: IdFilter = None,
    status: EventStatus | None = None,
) -> dict[str, Any]:
    """The merchant's notifications (as GET /v1/notifications/{id} finds them), newest first."""
    filters = EventFilter(status, payment_id, merchant_id=caller.merchant.id)
    return await list_events(c, window, filters)


@router.get("/{event_id}", response_model=NotificationPublic)
async def get_notification(c: ContainerDep, caller: CallerDep, event_id: str) -> dict[str, Any]:
    return await service.show_event(c, event_id, caller.merchant.id)


@router.post("/{event_id}/resend", response_model=NotificationPublic)
async def resend_notification(c: ContainerDep, caller: CallerDep, event_id: str) -> dict[str, Any]:
    return await service.resend(c, event_id, caller.merchant.id)


@admin_router.get("", response_model=NotificationsPublic)
async def admin_list_notifications(
    c: ContainerDep,
    _: OperatorDep,
    window: WindowDep,
    *,
    payment_id: IdFilter = None,
    status: EventStatus | None = None,
    merchant_id: IdFilter = None,
    app_id: IdFilter = None,
) -> dict[str, Any]:
    return await list_events(c, window, EventFilter(status, payment_id, merchant_id, app_id))


@admin_router.get("/{event_id}", response_model=NotificationPublic)
async def admin_get_notification(c: ContainerDep, _: OperatorDep, event_id: str) -> dict[str, Any]:
    return await service.show_event(c, event_id, None)


@admin_router.post("/{event_id}/resend", response_model=NotificationPublic)
async def admin_resend_notification(c: ContainerDep, _: OperatorDep, event_id: str) -> dict[str, Any]:
    return await service.resend(c, event_id, None)
