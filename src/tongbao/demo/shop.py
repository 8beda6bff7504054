"""The demo merchant's own notify endpoint, served inside the demo process.

It verifies each notification with the package's client, as a real merchant would, logs it and
keeps the last few so a newcomer can see them at ``/demo/notifications``.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import structlog
from fastapi import APIRouter, Request, Response

from tongbao.client import ResponseSignatureInvalid, TongbaoClient

log = structlog.get_logger(__name__)
KEEP = 50


def demo_shop_router(base_url: str, app_id: str, app_secret: str) -> APIRouter:
    router = APIRouter(prefix="/demo", tags=["demo merchant"], include_in_schema=False)
    verifier = TongbaoClient(base_url, app_id, app_secret)
    received: deque[dict[str, Any]] = deque(maxlen=KEEP)

    @router.post("/notify")
    async def demo_notify(request: Request) -> Response:
        body = await request.body()
        try:
            event = verifier.verify_notification(request.headers, body)
        except (ResponseSignatureInvalid, ValueError) as exc:
            log.warning("demo merchant refused a notification", reason=str(exc))
            return Response(status_code=401)
        received.appendleft(event)
        log.info(
            "demo merchant received a notification",
            type=event.get("type"),
            payment_id=event.get("data", {}).get("id"),
            status=event.get("data", {}).get("status"),
        )
        return Response(status_code=204)

    @router.get("/notifications")
    async def demo_notifications() -> dict[str, Any]:
        return {"data": list(received)}

    return router
