"""ASGI middleware that every request passes: request ids and request body limits."""

from __future__ import annotations

import re
from collections.abc import Callable

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tongbao.api.errors import send_error
from tongbao.errors import PayloadTooLarge
from tongbao.ids import new_id

REQUEST_ID_HEADER = b"tongbao-request-id"


class RequestIdMiddleware:
    """Gives each request an id (``req_…``), echoed in a header, the logs and error bodies."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = new_id("request")
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (REQUEST_ID_HEADER, request_id.encode())]
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            await self.app(scope, receive, send_with_id)


class BodyLimitMiddleware:
    """Refuses bodies over a limit (by Content-Length, and by counting as it streams)."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                too_large = PayloadTooLarge(f"the body is over the {limit}-byte limit")
                await send_error(send, too_large, scope.get("state", {}).get("request_id"))
                return
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise PayloadTooLarge(f"the body is over the {limit}-byte limit")
            return message

        await self.app(scope, counting_receive, send)


DOCUMENT_UPLOAD = re.compile(r"^/admin/v1/merchants/[^/]+/documents$")
