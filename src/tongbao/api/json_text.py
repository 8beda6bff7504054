"""Text in JSON bodies must be Unicode: refused at the edge, for every field of every endpoint.

JSON may spell a lone UTF-16 surrogate (``"\\ud800"``), and Python's decoder lets the raw UTF-8
bytes of one through too; either becomes a ``str`` that no UTF-8 encoder (the database, a
channel, our own response) accepts. This middleware answers such a body 400
``parameter_invalid`` naming the field, before any route sees it.
"""

from __future__ import annotations

import email.message
import json
import re
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tongbao.errors import InvalidRequest

# A surrogate's escape (\uD800-\uDFFF) or its UTF-8 bytes: only then is the body parsed here.
_MAYBE_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]|\xed[\xa0-\xbf]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _is_json(scope: Scope) -> bool:
    """application/json or …+json, as FastAPI reads them; and bodies without a Content-Type,
    which FastAPI reads as JSON where a route is not strict about it."""
    value = next((v for k, v in scope.get("headers", []) if k == b"content-type"), None)
    if not value:
        return True
    message = email.message.Message()
    message["content-type"] = value.decode("latin-1")
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


def _printable(key: str) -> str:
    return key.encode("utf-8", "backslashreplace").decode("utf-8")


def first_surrogate(document: Any) -> list[str] | None:
    """The path to the first string (value or key) holding a lone surrogate, else None."""
    pending: list[tuple[Any, list[str]]] = [(document, [])]
    while pending:  # iterative: a deep document must not exhaust the stack
        value, path = pending.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                return path
        elif isinstance(value, dict):
            for key, item in value.items():
                if _SURROGATE.search(key):
                    return [*path, _printable(key)]
                pending.append((item, [*path, key]))
        elif isinstance(value, list):
            pending.extend((item, [*path, str(i)]) for i, item in enumerate(value))
    return None


def check_json_text(body: bytes) -> None:
    # UTF-16/32 bodies (NUL bytes near the start) are always parsed: the quick look reads UTF-8.
    if not body or (b"\x00" not in body[:4] and not _MAYBE_SURROGATE.search(body)):
        return
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return  # not JSON: the route's own parsing answers body_invalid_json
    path = first_surrogate(document)
    if path is None:
        return
    param = ".".join(path) or None
    problem = "holds a lone UTF-16 surrogate, which is not Unicode text"
    raise InvalidRequest(f"{param}: {problem}" if param else f"the body {problem}", param=param)


class JsonTextMiddleware:
    """Reads a JSON body through, checks its text, and hands the same bytes on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        last: Message | None = None
        while True:  # the size is already bounded by BodyLimitMiddleware
            message = await receive()
            if message["type"] != "http.request":
                last = message  # the client left: let the route find out as it would have
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        check_json_text(body)  # raises InvalidRequest, answered by the net around this layer
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                # A body cut short by a disconnect is not passed on as if complete.
                return {"type": "http.request", "body": body, "more_body": last is not None}
            return last if last is not None else await receive()

        await self.app(scope, replay, send)
