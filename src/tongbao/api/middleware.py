"""ASGI middleware that every request passes: request ids, request body limits, and the net that
answers an unexpected exception."""

from __future__ import annotations

import re
from collections.abc import Callable

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tongbao.api.errors import internal_error_payload, log_unexpected, request_id_of, send_error, send_json
from tongbao.errors import PayloadTooLarge, TongbaoError
from tongbao.ids import new_id
from tongbao.security.redaction import request_secrets

REQUEST_ID_HEADER = b"tongbao-request-id"


async def run_guarded(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    """Runs ``app``; whatever it raises is answered here, in the error shape, and not re-raised, so
    the server keeps the connection open and nothing else logs it again.

    A ``TongbaoError`` (a refusal raised by middleware, outside the routes' handlers) is answered
    as itself; anything else is a 500, logged once. If the answer had already begun there is
    nothing left to send, only to log.
    """
    started = False

    async def tracked_send(message: Message) -> None:
        nonlocal started
        if message["type"] == "http.response.start":
            started = True
        await send(message)

    try:
        await app(scope, receive, tracked_send)
    except TongbaoError as exc:
        if not started:
            await send_error(send, exc, request_id_of(scope.get("state", {})))
    except Exception as exc:  # noqa: BLE001 - this is the place every unexpected error ends
        answered = not started
        try:
            if answered:  # answer first: the caller should not wait for the log
                await send_json(send, 500, internal_error_payload(request_id_of(scope.get("state", {}))))
        finally:
            log_unexpected(exc, scope, answered=answered)


class RequestIdMiddleware:
    """Gives each request an id (``req_…``), echoed in a header, the logs and error bodies.

    It is also the last net for an exception of the middleware inside it."""

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

        with structlog.contextvars.bound_contextvars(request_id=request_id), request_secrets():
            await run_guarded(self.app, scope, receive, send_with_id)


class UnexpectedErrorMiddleware:
    """The innermost net: a route's unexpected exception becomes a 500 answer here, so the
    merchant API's door still signs it and a retry with its Idempotency-Key runs again."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await run_guarded(self.app, scope, receive, send)


class BodyLimitMiddleware:
    """Refuses bodies over a limit: by Content-Length before reading, and by counting as a body
    without one streams in. Once the count passes the limit the answer is 413, whatever the
    layers inside made of the failed read (FastAPI would call it a 400 parse error)."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])

        def too_large() -> PayloadTooLarge:
            return PayloadTooLarge(f"the body is over the {limit}-byte limit")

        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                await send_error(send, too_large(), request_id_of(scope.get("state", {})))
                return
        seen = 0
        exceeded = False
        started = False

        async def counting_receive() -> Message:
            nonlocal seen, exceeded
            if exceeded:
                raise too_large()
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    exceeded = True
                    raise too_large()
            return message

        async def send_unless_exceeded(message: Message) -> None:
            nonlocal started
            if exceeded:
                return  # the 413 below is the answer
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, send_unless_exceeded)
        except Exception:
            if not exceeded:
                raise
            # What the inner layers raised is the read that was cut short.
        if exceeded and not started:
            await send_error(send, too_large(), request_id_of(scope.get("state", {})))


DOCUMENT_UPLOAD = re.compile(r"^/admin/v1/merchants/[^/]+/documents$")
