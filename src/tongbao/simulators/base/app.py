"""The Starlette app around a simulator, standalone or mounted (``app.mount("/sim/…", …)``).

Starlette rather than FastAPI so that every error, 404 and 405 included, is in the channel's own
shape: each simulator says how an HTTP error and an unexpected failure look on its wire.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Protocol

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute


class Closing(Protocol):
    async def aclose(self) -> None: ...


def simulator_app(
    sim: Closing,
    routes: Sequence[BaseRoute],
    *,
    http_error: Callable[[Request, int], Response],
    server_error: Callable[[Request], Response],
) -> Starlette:
    """The simulator on ``app.state.simulator``, ``http_error`` answering a 404, 405… (given its
    status) and ``server_error`` anything unexpected.

    Its lifespan closes the simulator on shutdown; when mounted inside another app, whose lifespan
    does not reach mounted apps, the host calls ``await app.state.simulator.aclose()`` itself.
    """

    async def on_http_error(request: Request, exc: Exception) -> Response:
        return http_error(request, exc.status_code if isinstance(exc, HTTPException) else 500)

    async def on_server_error(request: Request, exc: Exception) -> Response:
        return server_error(request)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await sim.aclose()

    app = Starlette(
        routes=list(routes),
        exception_handlers={HTTPException: on_http_error, Exception: on_server_error},
        lifespan=lifespan,
    )
    app.state.simulator = sim
    return app
