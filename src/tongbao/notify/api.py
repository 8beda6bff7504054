"""Notification endpoints: merchants (``/v1``) and operators (``/admin/v1``) see and resend them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from tongbao.api.deps import CallerDep, ContainerDep, OperatorDep
from tongbao.notify import service

router = APIRouter(prefix="/v1/notifications", tags=["merchant API: notifications"])
admin_router = APIRouter(prefix="/admin/v1/notifications", tags=["admin: notifications"])

PaymentFilter = Annotated[str | None, Query(max_length=40)]


@router.get("")
async def list_notifications(c: ContainerDep, caller: CallerDep, payment_id: PaymentFilter = None) -> Any:
    return {"data": await service.list_events(c, merchant_id=caller.merchant.id, payment_id=payment_id)}


@router.get("/{event_id}")
async def get_notification(c: ContainerDep, caller: CallerDep, event_id: str) -> dict[str, Any]:
    return await service.show_event(c, event_id, caller.merchant.id)


@router.post("/{event_id}/resend")
async def resend_notification(c: ContainerDep, caller: CallerDep, event_id: str) -> dict[str, Any]:
    return await service.resend(c, event_id, caller.merchant.id)


@admin_router.get("")
async def admin_list_notifications(
    c: ContainerDep,
    _: OperatorDep,
    payment_id: PaymentFilter = None,
    merchant_id: Annotated[str | None, Query(max_length=40)] = None,
) -> Any:
    return {"data": await service.list_events(c, merchant_id=merchant_id, payment_id=payment_id)}


@admin_router.get("/{event_id}")
async def admin_get_notification(c: ContainerDep, _: OperatorDep, event_id: str) -> dict[str, Any]:
    return await service.show_event(c, event_id, None)


@admin_router.post("/{event_id}/resend")
async def admin_resend_notification(c: ContainerDep, _: OperatorDep, event_id: str) -> dict[str, Any]:
    return await service.resend(c, event_id, None)
