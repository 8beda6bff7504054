"""The WeChat Pay simulator as a Starlette app, standalone or mounted (``app.mount("/sim/wechatpay", …)``).

Starlette rather than FastAPI so that every error, 404 and 405 included, is WeChat's JSON shape.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Final

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from tongbao.clock import Clock

from .api import default_serial, respond, v3_routes
from .callbacks import WECHAT_CALLBACK_SCHEDULE_S
from .control import control_routes
from .errors import system_error
from .refunds import DEFAULT_REFUND_DELAY_S
from .state import WeChatPaySimulator

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

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        code, message = _HTTP_ERRORS.get(status, ("INVALID_REQUEST", "无效请求"))
        return respond(
            sim,
            default_serial(sim, request.headers.get("authorization")),
            status,
            {"code": code, "message": message},
        )

    async def server_error(request: Request, exc: Exception) -> Response:
        return respond(
            sim, default_serial(sim, request.headers.get("authorization")), 500, system_error().body()
        )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await sim.aclose()

    app = Starlette(
        routes=[*v3_routes(sim), *control_routes(sim)],
        exception_handlers={HTTPException: http_error, Exception: server_error},
        lifespan=lifespan,
    )
    app.state.simulator = sim
    return app
