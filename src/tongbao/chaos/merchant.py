"""The merchant's side of a chaos run: signed calls spread over every API process, retried the way a
careful merchant retries. A transport error or a 5xx is an unknown outcome, so the same request goes
again (new nonce, same Idempotency-Key, same body bytes) until it gets an answer or time runs out."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import httpx

from tongbao.client import encode_json, sign_request

REQUEST_TIMEOUT_S: Final = 15.0
# Longer than a request can hold its Idempotency-Key, so a retry outlives a crashed first attempt.
GIVE_UP_AFTER_S: Final = 150.0
# Answers that leave the outcome unknown or say "not yet": ask again.
RETRY_CODES: Final = {"idempotency_request_in_progress", "channel_unavailable"}


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    tries: int

    @property
    def code(self) -> str:
        error = self.body.get("error")
        return str(error.get("code", "")) if isinstance(error, dict) else ""


class GaveUp(Exception):
    """No answer that settles the outcome within the time a merchant would keep trying."""


class Merchant:
    def __init__(self, base_urls: Sequence[str], app_id: str, app_secret: str) -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=16)
        self._clients = [
            httpx.AsyncClient(base_url=url, timeout=REQUEST_TIMEOUT_S, limits=limits, trust_env=False)
            for url in base_urls
        ]
        self._next = itertools.cycle(range(len(self._clients)))
        self.retries = 0
        self.transport_errors = 0

    async def post(self, path: str, payload: Any, key: str) -> Answer:
        return await self._call("POST", path, encode_json(payload), key)

    async def get(self, path: str) -> Answer:
        return await self._call("GET", path, b"", None)

    async def _call(self, method: str, path: str, body: bytes, key: str | None) -> Answer:
        deadline = time.monotonic() + GIVE_UP_AFTER_S
        last = ""
        for tries in itertools.count(1):
            client = self._clients[next(self._next)]
            headers = sign_request(
                self.app_id, self.app_secret, method, path, body, timestamp=int(time.time())
            )
            if key is not None:
                headers["Idempotency-Key"] = key
            if body:
                headers["Content-Type"] = "application/json"
            try:
                response = await client.request(method, path, content=body, headers=headers)
            except httpx.TransportError as exc:
                self.transport_errors += 1
                last = f"{type(exc).__name__} from {client.base_url}"
            else:
                answer = Answer(response.status_code, _json(response), tries)
                if response.status_code < 500 and answer.code not in RETRY_CODES:
                    return answer
                last = f"HTTP {response.status_code} {answer.code}".strip()
            if time.monotonic() > deadline:
                raise GaveUp(f"{method} {path} (key {key}): no answer after {tries} tries; last: {last}")
            self.retries += 1
            await asyncio.sleep(min(2.0, 0.1 * tries))
        raise AssertionError("unreachable")

    async def aclose(self) -> None:
        for client in self._clients:
            await client.aclose()


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
