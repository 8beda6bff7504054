"""Merchants' notify endpoints for a run: ``/notify/{endpoint}`` records every delivery, verifies
Tongbao's signature, and answers after the endpoint's delay with its status.

Endpoints share one port unless named in ``own_ports``: those listen on a port each, so that
Tongbao sees them as the distinct merchant servers they stand for (its limits are per host:port).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tongbao.client import ResponseSignatureInvalid, verify_signed

from .threaded_server import LiveServer


@dataclass(frozen=True)
class Behaviour:
    delay_s: float = 0.0
    status: int = 200


@dataclass(frozen=True)
class Delivery:
    endpoint: str
    event_id: str
    event_type: str
    data: dict[str, Any]
    at: float  # time.monotonic() on arrival
    signed: bool


@dataclass
class Receiver:
    """``secrets`` (endpoint -> app secret) verify signatures; an endpoint without one is not checked."""

    behaviours: dict[str, Behaviour] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    own_ports: Sequence[str] = ()
    deliveries: list[Delivery] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: LiveServer | None = None
    _stopping: asyncio.Event | None = None  # made on the server's loop, by the first delivery

    def url(self, endpoint: str = "default") -> str:
        assert self._server is not None, "start the receiver first"
        if endpoint in self.own_ports:
            return f"{self._server.urls[1 + list(self.own_ports).index(endpoint)]}/notify/{endpoint}"
        return f"{self._server.url}/notify/{endpoint}"

    def snapshot(self) -> list[Delivery]:
        with self._lock:
            return list(self.deliveries)

    def by_event(self) -> dict[str, list[Delivery]]:
        grouped: dict[str, list[Delivery]] = defaultdict(list)
        for delivery in self.snapshot():
            grouped[delivery.event_id].append(delivery)
        return grouped

    async def _handle(self, request: Request) -> Response:
        endpoint = request.path_params["endpoint"]
        body = await request.body()
        secret = self.secrets.get(endpoint)
        signed = True
        if secret is not None:
            try:
                verify_signed(secret, request.headers, body)
            except ResponseSignatureInvalid:
                signed = False
        try:
            event = json.loads(body)
            delivery = Delivery(
                endpoint,
                str(event["id"]),
                str(event["type"]),
                event.get("data") or {},
                time.monotonic(),
                signed,
            )
        except (ValueError, KeyError, TypeError):
            return Response(status_code=400)
        with self._lock:
            self.deliveries.append(delivery)
        behaviour = self.behaviours.get(endpoint, Behaviour())
        if behaviour.delay_s:
            if self._stopping is None:
                self._stopping = asyncio.Event()
            # An endpoint told to hang lets go when the receiver stops, so that stopping is quick.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), behaviour.delay_s)
        return Response(status_code=behaviour.status)

    def start(self) -> Receiver:
        app = Starlette(routes=[Route("/notify/{endpoint}", self._handle, methods=["POST"])])
        self._server = LiveServer(app, ports=1 + len(self.own_ports)).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.run(self._release())
            self._server.stop()
            self._server = None

    async def _release(self) -> None:
        if self._stopping is not None:
            self._stopping.set()
