"""The WeChat Pay simulator as a Starlette app, standalone or mounted (``app.mount("/sim/wechatpay", …)``).
Every error, 404 and 405 included, is WeChat's JSON shape, signed like any answer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from tongbao.clock import Clock

from ..base.app import simulator_app
from .control import control_routes
from .gateway import default_serial, gateway_routes, respond
from .gateway_errors import system_error
from .notify import WECHAT_CALLBACK_SCHEDULE_S
from .pages import payer_routes
from .state import WeChatPaySimulator
from .state_refunds import DEFAULT_REFUND_DELAY_S

_HTTP_ERRORS: Final = {404: ("NOT_FOUND", "请求的资源不存在"), 405: ("METHOD_NOT_ALLOWED", "请求方法不支持")}


def create_wechatpay_simulator(
    *,
    clock: Clock | None = None,
    platform_key: RSAPrivateKey | None = None,
    callback_schedule_s: Sequence[float] = WECHAT_CALLBACK_SCHEDULE_S,
    http_timeout_s: float = 5.0,
    refund_delay_s: float = DEFAULT_REFUND_DELAY_S,
) -> Starlette:
    """A fresh simulator (its own platform key, merchants and orders) on ``app.state.simulator``.
    A new refund finishes ``refund_delay_s`` after it was submitted, unless a fault holds it.

    Its lifespan closes it on shutdown; when mounted inside another app, whose lifespan does not reach
    mounted apps, the host calls ``await app.state.simulator.aclose()`` itself.
    """
    sim = WeChatPaySimulator(
        clock=clock,
        platform_key=platform_key,
        callback_schedule_s=callback_schedule_s,
        http_timeout_s=http_timeout_s,
        refund_delay_s=refund_delay_s,
    )

    def signed(request: Request, status: int, body: dict[str, Any]) -> Response:
        return respond(sim, default_serial(sim, request.headers.get("authorization")), status, body)

    def http_error(request: Request, status: int) -> Response:
        code, message = _HTTP_ERRORS.get(status, ("INVALID_REQUEST", "无效请求"))
        return signed(request, status, {"code": code, "message": message})

    def server_error(request: Request) -> Response:
        return signed(request, 500, system_error().body())

    routes = [*gateway_routes(sim), *control_routes(sim), *payer_routes(sim)]
    return simulator_app(sim, routes, http_error=http_error, server_error=server_error)
