"""An ASGI app served by a real uvicorn on a loopback port, in a thread with its own event loop.

Clients talk to it over real HTTP; ``run(coro)`` runs a coroutine on the server's loop (where, for
a Tongbao, the database engine lives) for set-up such as emptying the tables between tests.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

import uvicorn
from starlette.types import ASGIApp

T = TypeVar("T")


def _listening_socket() -> socket.socket:
    # IPPROTO_TCP lets asyncio set TCP_NODELAY on accepted connections (no delayed-ACK stalls).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


class LiveServer:
    """``ports`` > 1 listens on that many ports (``.urls``), all serving the same app: as many
    distinct addresses as a test needs, for one thread."""

    def __init__(self, app: ASGIApp, ports: int = 1) -> None:
        self._socks = [_listening_socket() for _ in range(ports)]
        self.ports = [int(sock.getsockname()[1]) for sock in self._socks]
        self.urls = [f"http://127.0.0.1:{port}" for port in self.ports]
        self.port = self.ports[0]
        self.url = self.urls[0]
        config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
        self._server = uvicorn.Server(config)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name="tongbao-threaded-server", daemon=True)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._server.serve(sockets=self._socks))

    def start(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the server did not start")
            time.sleep(0.02)
        return self

    def run(self, coro: Coroutine[Any, Any, T], timeout_s: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout_s)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=20)
        self._loop.close()
