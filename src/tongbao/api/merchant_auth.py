"""The merchant API's door: every ``/v1/`` request is authenticated here, its nonce spent, its
``Idempotency-Key`` honoured, and its answer signed for the app to verify."""

from __future__ import annotations

from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tongbao.api.errors import error_payload, internal_error_payload, log_unexpected, send_error
from tongbao.container import Container
from tongbao.errors import PayloadTooLarge, TongbaoError
from tongbao.security import idempotency, signing
from tongbao.security.redaction import remember_secret
from tongbao.security.request_auth import Authenticated, authenticate

PREFIX = "/v1/"

log = structlog.get_logger(__name__)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def path_and_query(scope: Scope) -> str:
    raw = scope.get("raw_path") or scope["path"].encode()
    path = raw.decode("latin-1").split("?", 1)[0]
    query = scope.get("query_string", b"").decode("latin-1")
    return f"{path}?{query}" if query else path


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the body is over the {limit}-byte limit")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _claim(scope: Scope, method: str, pq: str, body: bytes) -> idempotency.Claim | None:
    """A POST's valid Idempotency-Key, to claim with the nonce; an invalid one is refused later,
    once the caller is known and the refusal can be signed."""
    key = _header(scope, b"idempotency-key") if method == "POST" else None
    if key is None:
        return None
    try:
        idempotency.check_key(key)
    except TongbaoError:
        return None
    return idempotency.Claim(key, idempotency.request_fingerprint(method, pq, body))


class MerchantAuthMiddleware:
    def __init__(self, app: ASGIApp, container: Container) -> None:
        self.app = app
        self.c = container

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        state: dict[str, Any] = scope.setdefault("state", {})
        request_id = state.get("request_id")
        method = scope["method"]
        try:
            body = await _read_body(receive, self.c.settings.max_body_bytes)
            pq = path_and_query(scope)
            client = scope.get("client")
            who = await authenticate(
                self.c,
                _header(scope, b"authorization"),
                method=method,
                path_and_query=pq,
                body=body,
                client_ip=client[0] if client else None,
                claim=_claim(scope, method, pq, body),
            )
        except TongbaoError as exc:
            # Nobody proved who they are: the answer cannot be signed for anyone.
            await send_error(send, exc, request_id)
            return
        for secret in who.caller.secrets:
            remember_secret(secret)
        state["caller"] = who.caller
        failure: Exception | None = None
        try:
            status, headers, response_body = await self._answer(
                scope, method, pq, body, who=who, request_id=request_id
            )
        except Exception as exc:  # noqa: BLE001 - the caller is known: its 500 is signed like any answer
            failure = exc
            status, headers, response_body = 500, [], internal_error_payload(request_id)
        try:
            await self._send_signed(send, status, headers, response_body, who.response_secret)
        finally:
            if failure is not None:
                log_unexpected(failure, scope, answered=True)

    async def _answer(
        self, scope: Scope, method: str, pq: str, body: bytes, *, who: Authenticated, request_id: str | None
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """The answer to an authenticated request: replayed, refused, or the route's."""
        key = _header(scope, b"idempotency-key") if method == "POST" else None
        stored = None
        try:
            if key is not None:
                key = idempotency.check_key(key)  # a valid key was claimed at the door
                if not who.claimed:
                    fingerprint = idempotency.request_fingerprint(method, pq, body)
                    stored = await idempotency.earlier_answer(self.c, who.caller.app.id, key, fingerprint)
        except TongbaoError as exc:
            return exc.status, [], error_payload(exc.status, exc.code, exc.message, exc.param, request_id)
        if stored is not None:
            return stored.status_code, [(b"idempotent-replayed", b"true")], stored.body

        try:
            status, headers, response_body = await self._run(scope, body)
        except Exception:
            # An endpoint failed unexpectedly: its key is freed so that a retry runs again; the
            # signed 500 is answered, and the error logged once, by the caller of this method.
            if key is not None:
                await idempotency.abandon(self.c, who.caller.app.id, key)
            raise
        if key is not None:
            if status >= 500:
                await idempotency.abandon(self.c, who.caller.app.id, key)
            else:
                await idempotency.finish(
                    self.c, who.caller.app.id, key, idempotency.StoredResponse(status, response_body)
                )
        return status, headers, response_body

    async def _run(self, scope: Scope, body: bytes) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """Runs the route with the body already read, and keeps its answer to sign it."""
        delivered = False

        async def replay_receive() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return {"type": "http.disconnect"}

        status = 500
        headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status, headers
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"content-length"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, replay_receive, capture)
        return status, headers, b"".join(chunks)

    async def _send_signed(
        self, send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes, secret: str
    ) -> None:
        timestamp = int(self.c.clock.now().timestamp())
        nonce = signing.new_nonce()
        signature = signing.hmac_sign(secret, signing.response_message(timestamp, nonce, body))
        extra = [
            (b"content-length", str(len(body)).encode()),
            (signing.HEADER_TIMESTAMP.lower().encode(), str(timestamp).encode()),
            (signing.HEADER_NONCE.lower().encode(), nonce.encode()),
            (signing.HEADER_SIGNATURE.lower().encode(), signature.encode()),
        ]
        if not any(k.lower() == b"content-type" for k, _ in headers):
            extra.append((b"content-type", b"application/json"))
        await send({"type": "http.response.start", "status": status, "headers": headers + extra})
        await send({"type": "http.response.body", "body": body})
