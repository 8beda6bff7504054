"""The Alipay simulator as a Starlette app, standalone or mounted (``app.mount("/sim/alipay", …)``).
Every error, 404 and 405 included, is Alipay's JSON shape, signed like any answer."""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from tongbao.clock import Clock

from ..base.app import simulator_app
from .control import control_routes
from .gateway import gateway_routes, respond
from .gateway_errors import invalid, unavailable
from .notify import ALIPAY_NOTIFY_SCHEDULE_S
from .pages import payer_routes
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

    def http_error(request: Request, status: int) -> Response:
        return respond(sim, None, invalid("isv.invalid-request", f"HTTP {status}").node(), status)

    def server_error(request: Request) -> Response:
        return respond(sim, None, unavailable().node(), 500)

    routes = [*gateway_routes(sim), *control_routes(sim), *payer_routes(sim)]
    return simulator_app(sim, routes, http_error=http_error, server_error=server_error)
