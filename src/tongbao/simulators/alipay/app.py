"""The Alipay simulator as a Starlette app, standalone or mounted (``app.mount("/sim/alipay", …)``).

Starlette rather than FastAPI so that every error, 404 and 405 included, is Alipay's JSON shape.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from tongbao.clock import Clock

from .callbacks import ALIPAY_NOTIFY_SCHEDULE_S
from .control import control_routes
from .gateway import respond
from .models import invalid, unavailable
from .state import AlipaySimulator


def create_alipay_simulator(
    *,
    clock: Clock | None = None,
    platform_key: RSAPrivateKey | None = None,
    callback_schedule_s: Sequence[float] = ALIPAY_NOTIFY_SCHEDULE_S,
    http_timeout_s: float = 5.0,
) -> Starlette:
    """A fresh simulator (its own Alipay key, apps and trades) on ``app.state.simulator``.

    Its lifespan closes it on shutdown; when mounted inside another app, whose lifespan does not reach
    mounted apps, the host calls ``await app.state.simulator.aclose()`` itself.
    """
    sim = AlipaySimulator(
        clock=clock,
        platform_key=platform_key,
        callback_schedule_s=callback_schedule_s,
        http_timeout_s=http_timeout_s,
    )

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        return respond(sim, None, invalid("isv.invalid-request", f"HTTP {status}").node(), status)

    async def server_error(request: Request, exc: Exception) -> Response:
        return respond(sim, None, unavailable().node(), 500)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await sim.aclose()

    app = Starlette(
        routes=control_routes(sim),
        exception_handlers={HTTPException: http_error, Exception: server_error},
        lifespan=lifespan,
    )
    app.state.simulator = sim
    return app
