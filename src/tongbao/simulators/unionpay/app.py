"""The UnionPay gateway simulator as a Starlette app, standalone or mounted
(``app.mount("/sim/unionpay", …)``): paths below the prefix are what the real gateway serves, and
its errors are the gateway's HTML error pages."""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from tongbao.channels.unionpay import protocol
from tongbao.clock import Clock

from ..base.app import simulator_app
from .control import control_routes
from .gateway import gateway_routes
from .pages import error_page, payer_routes
from .state import UnionPaySimulator


def create_unionpay_simulator(
    *,
    clock: Clock | None = None,
    platform_key: RSAPrivateKey | None = None,
    callback_schedule_s: Sequence[float] = protocol.NOTIFY_RETRY_DELAYS_S,
    http_timeout_s: float = 5.0,
    refund_settle_s: float = 0.5,
) -> Starlette:
    """A fresh simulator (its own signing key and certificate, merchants and orders) on
    ``app.state.simulator``. Its lifespan closes it on shutdown; when mounted inside another app,
    whose lifespan does not reach mounted apps, the host calls ``await app.state.simulator.aclose()``.
    An accepted refund settles ``refund_settle_s`` later unless a fault holds it."""
    sim = UnionPaySimulator(
        clock=clock,
        platform_key=platform_key,
        callback_schedule_s=callback_schedule_s,
        http_timeout_s=http_timeout_s,
        refund_settle_s=refund_settle_s,
    )

    def http_error(request: Request, status: int) -> Response:
        return HTMLResponse(error_page(str(status), "请求无效"), status_code=status)

    def server_error(request: Request) -> Response:
        return HTMLResponse(error_page("03", "系统繁忙"), status_code=500)

    routes = [*gateway_routes(sim), *control_routes(sim), *payer_routes(sim)]
    return simulator_app(sim, routes, http_error=http_error, server_error=server_error)
