"""A lean asynchronous client for load: signs each request as any merchant would, checks the status
and leaves verifying Tongbao's signature to the functional tests (it would cost the bench's CPU)."""

from __future__ import annotations

import time
from typing import Any

import httpx

from tongbao.client import encode_json, sign_request

from .load import OperationFailed


class SignedClient:
    def __init__(self, base_url: str, app_id: str, app_secret: str, connections: int) -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        self.http = httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30.0)

    async def post(
        self, path: str, payload: Any, expect: int = 201, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        body = encode_json(payload)
        headers = sign_request(self.app_id, self.app_secret, "POST", path, body, timestamp=int(time.time()))
        headers["Content-Type"] = "application/json"
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        try:
            response = await self.http.post(path, content=body, headers=headers)
        except httpx.TimeoutException as exc:
            raise OperationFailed("timeout") from exc
        except httpx.TransportError as exc:
            raise OperationFailed(type(exc).__name__) from exc
        if response.status_code != expect:
            code = response.json().get("error", {}).get("code", "") if response.content else ""
            raise OperationFailed(f"HTTP {response.status_code} {code}".strip())
        answer: dict[str, Any] = response.json()
        return answer

    async def aclose(self) -> None:
        await self.http.aclose()
