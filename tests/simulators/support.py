"""Helpers for driving the WeChat Pay simulator over real HTTP, as a merchant's code would."""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tongbao.channels.wechatpay import protocol
from tongbao.clock import Clock, SystemClock
from tongbao.security import samples


class ManualClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.moment = start or datetime.now(UTC)

    def now(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


def wait_until(predicate: Any, timeout_s: float = 5.0, interval_s: float = 0.01) -> Any:
    """Poll until ``predicate()`` is truthy; returns its value, or fails at the deadline."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met before the deadline")
        time.sleep(interval_s)


def response_signature_ok(response: httpx.Response, platform_key: rsa.RSAPublicKey) -> bool:
    headers = response.headers
    signed = protocol.message(
        headers[protocol.HEADER_TIMESTAMP], headers[protocol.HEADER_NONCE], response.content
    )
    return protocol.verify(platform_key, signed, headers[protocol.HEADER_SIGNATURE])


@dataclass
class Merchant:
    """A registered merchant: its keys, what the simulator answered, and a signing HTTP client."""

    base_url: str
    key: rsa.RSAPrivateKey
    mchid: str = field(default_factory=lambda: "19" + "".join(secrets.choice("0123456789") for _ in range(8)))
    appid: str = field(default_factory=lambda: "wx" + secrets.token_hex(8))
    serial_no: str = field(default_factory=lambda: secrets.token_hex(20).upper())
    apiv3_key: str = field(default_factory=lambda: secrets.token_hex(16))
    clock: Clock = field(default_factory=SystemClock)
    platform: dict[str, str] = field(default_factory=dict)

    def register(self, client: httpx.Client, verification: str = "public_key") -> Merchant:
        response = client.post(
            f"{self.base_url}/_control/merchants",
            json={
                "mchid": self.mchid,
                "appid": self.appid,
                "serial_no": self.serial_no,
                "public_key_pem": samples.public_pem(self.key),
                "apiv3_key": self.apiv3_key,
                "platform_verification": verification,
            },
        )
        assert response.status_code == 200, response.text
        self.platform = response.json()
        return self

    @property
    def platform_key(self) -> rsa.RSAPublicKey:
        key = serialization.load_pem_public_key(self.platform["platform_public_key_pem"].encode())
        assert isinstance(key, rsa.RSAPublicKey)
        return key

    def call(
        self,
        client: httpx.Client,
        method: str,
        path: str,
        payload: Any = None,
        *,
        sign_url: str | None = None,
        timestamp: int | None = None,
        serial_no: str | None = None,
        key: rsa.RSAPrivateKey | None = None,
        timeout: float | None = None,
    ) -> httpx.Response:
        """A signed v3 request; ``path`` is below the simulator's base URL and may carry ``?query``."""
        body = b"" if payload is None else json.dumps(payload, ensure_ascii=False).encode()
        auth = protocol.sign_request(
            key or self.key,
            mchid=self.mchid,
            serial_no=serial_no or self.serial_no,
            method=method,
            url=sign_url or path,
            body=body,
            timestamp=timestamp if timestamp is not None else int(self.clock.now().timestamp()),
            nonce=protocol.new_nonce(),
        )
        headers = {"Authorization": auth.header(), "Accept": "application/json"}
        if payload is not None:
            headers["Content-Type"] = "application/json"
        return client.request(
            method,
            f"{self.base_url}{path}",
            content=body,
            headers=headers,
            timeout=httpx.USE_CLIENT_DEFAULT if timeout is None else timeout,
        )

    def order_body(
        self,
        out_trade_no: str,
        notify_url: str = "https://merchant.example/notify",
        total: int = 100,
        **extra: Any,
    ) -> dict[str, Any]:
        return {
            "appid": self.appid,
            "mchid": self.mchid,
            "description": "Tongbao test goods",
            "out_trade_no": out_trade_no,
            "notify_url": notify_url,
            "amount": {"total": total, "currency": "CNY"},
            **extra,
        }

    def create_native(
        self, client: httpx.Client, out_trade_no: str, *, timeout: float | None = None, **kwargs: Any
    ) -> httpx.Response:
        body = self.order_body(out_trade_no, **kwargs)
        return self.call(client, "POST", "/v3/pay/transactions/native", body, timeout=timeout)

    def query(self, client: httpx.Client, out_trade_no: str) -> httpx.Response:
        return self.call(
            client, "GET", f"/v3/pay/transactions/out-trade-no/{out_trade_no}?mchid={self.mchid}"
        )

    def decrypt(self, resource: dict[str, str]) -> dict[str, Any]:
        plaintext = protocol.decrypt(
            self.apiv3_key.encode(), resource["nonce"], resource["associated_data"], resource["ciphertext"]
        )
        return dict(json.loads(plaintext))


def new_out_trade_no() -> str:
    return "TB" + secrets.token_hex(8)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


class Receiver:
    """A merchant's notify endpoint: records every POST and answers from a per-path script."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self._scripts: dict[str, list[int]] = {}
        self.app = Starlette(routes=[Route("/notify/{name}", self._notify, methods=["POST"])])

    async def _notify(self, request: Request) -> Response:
        body = await request.body()
        with self._lock:
            self._received.append(Received(request.url.path, dict(request.headers), body))
            script = self._scripts.get(request.url.path, [])
            status = script.pop(0) if script else 200
        return Response(status_code=status)

    def answer(self, path: str, *statuses: int) -> None:
        """Answer the next POSTs to ``path`` with these statuses, then 200."""
        with self._lock:
            self._scripts[path] = list(statuses)

    def received(self, path: str) -> list[Received]:
        with self._lock:
            return [item for item in self._received if item.path == path]
