"""A small merchant-side client: signs requests, verifies signed responses and notifications.

    client = TongbaoClient("http://127.0.0.1:8000", app_id, app_secret)
    me = client.get("/v1/me").json()

Every answer from an authenticated request is signed by Tongbao; ``request`` refuses one whose
signature does not verify (``ResponseSignatureInvalid``), so a tampered answer is never used.

Another httpx client (one generated from ``/openapi.json``, say) signs and verifies the same way
with two event hooks::

    httpx.Client(event_hooks={"request": [signing_hook(app_id, app_secret)],
                              "response": [verifying_hook(app_secret)]})
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx

from tongbao.security import signing

__all__ = [
    "ResponseSignatureInvalid",
    "TongbaoClient",
    "encode_json",
    "sign_request",
    "signing_hook",
    "verify_response",
    "verify_signed",
    "verifying_hook",
]

# Answers Tongbao could not attribute to an app (401/403/413 at the door, or a 500 before it knew
# the caller) come unsigned.
UNSIGNED_ALLOWED = (401, 403, 413, 500)


class ResponseSignatureInvalid(Exception):
    pass


def encode_json(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


class TongbaoClient:
    def __init__(
        self,
        base_url: str,
        app_id: str,
        app_secret: str,
        *,
        private_key_pem: str | None = None,
        timeout_s: float = 10.0,
        now: Callable[[], float] = time.time,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        self.private_key_pem = private_key_pem
        self._now = now
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout_s, transport=transport)

    @classmethod
    def from_demo(cls, demo_json: str | Path, **kwargs: Any) -> TongbaoClient:
        """A client for the app ``tongbao serve --demo`` writes into ``DATA_DIR/demo.json``."""
        demo = json.loads(Path(demo_json).read_text())
        return cls(demo["base_url"], demo["app_id"], demo["app_secret"], **kwargs)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> TongbaoClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def sign(
        self,
        method: str,
        path_and_query: str,
        body: bytes,
        *,
        nonce: str | None = None,
        timestamp: int | None = None,
    ) -> dict[str, str]:
        """The Authorization header for a request, signed with RSA if a private key was given."""
        ts = int(self._now()) if timestamp is None else timestamp
        return sign_request(
            self.app_id,
            self.app_secret,
            method,
            path_and_query,
            body,
            timestamp=ts,
            nonce=nonce,
            private_key_pem=self.private_key_pem,
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        verify: bool = True,
    ) -> httpx.Response:
        body = b"" if json is None else encode_json(json)
        url = self._http.build_request(method, path, params=params).url
        path_and_query = url.raw_path.decode("ascii")
        sent = {**self.sign(method, path_and_query, body), **(headers or {})}
        if body:
            sent.setdefault("Content-Type", "application/json")
        if idempotency_key:
            sent["Idempotency-Key"] = idempotency_key
        response = self._http.request(method, url, content=body, headers=sent)
        if verify:
            self.verify_response(response)
        return response

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, json=json, **kwargs)

    def verify_response(self, response: httpx.Response) -> None:
        """Checks Tongbao's signature; see ``verify_response``."""
        verify_response(self.app_secret, response)

    def verify_notification(self, headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
        """Verifies a notification Tongbao POSTed to the app's notify URL and returns its event."""
        verify_signed(self.app_secret, headers, body)
        event: dict[str, Any] = json_loads(body)
        return event

    def verify_signed(self, headers: Mapping[str, str], body: bytes) -> None:
        verify_signed(self.app_secret, headers, body)


def sign_request(
    app_id: str,
    app_secret: str,
    method: str,
    path_and_query: str,
    body: bytes,
    *,
    timestamp: int,
    nonce: str | None = None,
    private_key_pem: str | None = None,
) -> dict[str, str]:
    """The Authorization header for one request: HMAC with the secret, or RSA with the private key."""
    nonce = nonce or signing.new_nonce()
    message = signing.request_message(method, path_and_query, timestamp, nonce, body)
    if private_key_pem:
        scheme, signature = signing.RSA_SCHEME, signing.rsa_sign(private_key_pem, message)
    else:
        scheme, signature = signing.HMAC_SCHEME, signing.hmac_sign(app_secret, message)
    return {"Authorization": signing.format_authorization(scheme, app_id, timestamp, nonce, signature)}


def verify_response(app_secret: str, response: httpx.Response) -> None:
    """Checks Tongbao's signature on an answer; only the answers in ``UNSIGNED_ALLOWED`` may lack one."""
    if signing.HEADER_SIGNATURE not in response.headers and response.status_code in UNSIGNED_ALLOWED:
        return
    verify_signed(app_secret, response.headers, response.content)


def verify_signed(app_secret: str, headers: Mapping[str, str], body: bytes) -> None:
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        timestamp = int(lowered[signing.HEADER_TIMESTAMP.lower()])
        nonce = lowered[signing.HEADER_NONCE.lower()]
        signature = lowered[signing.HEADER_SIGNATURE.lower()]
    except (KeyError, ValueError) as exc:
        raise ResponseSignatureInvalid("the Tongbao-Timestamp/-Nonce/-Signature headers are missing") from exc
    message = signing.response_message(timestamp, nonce, body)
    if not signing.hmac_verify(app_secret, message, signature):
        raise ResponseSignatureInvalid("Tongbao's signature does not verify with this app's secret")


def signing_hook(
    app_id: str,
    app_secret: str,
    *,
    private_key_pem: str | None = None,
    now: Callable[[], float] = time.time,
) -> Callable[[httpx.Request], None]:
    """An httpx request hook that signs each request over the bytes it will send, path and query
    as they go on the wire, replacing any Authorization header the client set."""

    def sign(request: httpx.Request) -> None:
        path_and_query = request.url.raw_path.decode("ascii")
        request.headers.update(
            sign_request(
                app_id,
                app_secret,
                request.method,
                path_and_query,
                request.content,
                timestamp=int(now()),
                private_key_pem=private_key_pem,
            )
        )

    return sign


def verifying_hook(app_secret: str) -> Callable[[httpx.Response], None]:
    """An httpx response hook that refuses an answer whose signature does not verify."""

    def verify(response: httpx.Response) -> None:
        response.read()  # a hook sees the answer before its body is read
        verify_response(app_secret, response)

    return verify


def json_loads(body: bytes) -> Any:
    return json.loads(body)
