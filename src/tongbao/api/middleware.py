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
        counted = _CountedBody(self.limit_for(scope["path"]), receive, send)
        if counted.declared_too_large(scope):
            await send_error(send, counted.too_large(), request_id_of(scope.get("state", {})))
            return
        try:
            await self.app(scope, counted.receive, counted.send)
        except Exception:
            if not counted.exceeded:
                raise
            # What the inner layers raised is the read that was cut short.
        if counted.exceeded and not counted.started:
            await send_error(send, counted.too_large(), request_id_of(scope.get("state", {})))


class _CountedBody:
    """One request's body as it streams in, counted against the limit; once past it, nothing the
    inner layers answer goes out (the 413 does)."""

    def __init__(self, limit: int, receive: Receive, send: Send) -> None:
        self.limit, self._receive, self._send = limit, receive, send
        self.seen = 0
        self.exceeded = False
        self.started = False

    def too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(f"the body is over the {self.limit}-byte limit")

    def declared_too_large(self, scope: Scope) -> bool:
        return any(
            name == b"content-length" and value.isdigit() and int(value) > self.limit
            for name, value in scope.get("headers", [])
        )

    async def receive(self) -> Message:
        if self.exceeded:
            raise self.too_large()
        message = await self._receive()
        if message["type"] == "http.request":
            self.seen += len(message.get("body", b""))
            if self.seen > self.limit:
                self.exceeded = True
                raise self.too_large()
        return message

    async def send(self, message: Message) -> None:
        if self.exceeded:
            return  # the 413 is the answer
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)


DOCUMENT_UPLOAD = re.compile(r"^/admin/v1/merchants/[^/]+/documents$")
