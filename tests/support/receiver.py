"""A merchant's notify endpoint for tests: records what arrives and answers as told."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .live_server import LiveServer


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Receiver:
    """``answers`` are HTTP statuses used one per request, then 200; ``hang_s`` delays every answer."""

    answers: deque[int] = field(default_factory=deque)
    hang_s: float = 0.0
    received: list[Received] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    server: LiveServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"{self.server.url}/notify"

    def fail_next(self, *statuses: int) -> None:
        self.answers.extend(statuses)

    def wait_for(self, count: int, timeout_s: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.02)
        raise AssertionError(f"expected {count} notifications, got {len(self.received)}")

    async def _handle(self, request: Request) -> Response:
        body = await request.body()
        with self._lock:
            self.received.append(Received(dict(request.headers), body, time.monotonic()))
            status = self.answers.popleft() if self.answers else 200
        if self.hang_s:
            await asyncio.sleep(self.hang_s)
        return Response(status_code=status)

    def start(self) -> Receiver:
        self.server = LiveServer(Starlette(routes=[Route("/notify", self._handle, methods=["POST"])])).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
