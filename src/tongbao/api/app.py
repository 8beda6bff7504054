"""The ASGI application: routers of every feature, the merchant API's door, error shape, docs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.routing import APIRoute

from tongbao import __version__
from tongbao.api import admin_payment_routes as payments_admin_api
from tongbao.api import health
from tongbao.api import payment_routes as payments_api
from tongbao.api.deps import refuse_nul_in_url
from tongbao.api.errors import install_error_handlers
from tongbao.api.json_text import JsonTextMiddleware
from tongbao.api.merchant_auth import MerchantAuthMiddleware
from tongbao.api.middleware import (
    DOCUMENT_UPLOAD,
    BodyLimitMiddleware,
    RequestIdMiddleware,
    UnexpectedErrorMiddleware,
)
from tongbao.api.openapi import install_openapi
from tongbao.bootstrap import build_worker
from tongbao.cases import api as cases_api
from tongbao.console import cashier
from tongbao.container import Container
from tongbao.ledger import admin_api as ledger_admin_api
from tongbao.ledger import api as ledger_api
from tongbao.ledger import recon_api as internal_recon_api
from tongbao.merchants import (
    app_api,
    channel_api,
    echo_api,
    limits_api,
    me_api,
    merchant_api,
    methods_api,
    policy_api,
)
from tongbao.notify import api as notify_api
from tongbao.payments import callback_api
from tongbao.refunds import admin_api as refunds_admin_api
from tongbao.refunds import api as refunds_api
from tongbao.refunds import callback_api as refund_callback_api

DESCRIPTION = """
Tongbao's merchant API (`/v1`, signed by apps) and operator API (`/admin/v1`, bearer token).
See docs/api.md for the signature scheme, with a worked example.
"""


def _operation_id(route: APIRoute) -> str:
    # Stable ids: the route function's name, which the code keeps unique.
    return route.name


def _body_limit(c: Container) -> Callable[[str], int]:
    def limit_for(path: str) -> int:
        if DOCUMENT_UPLOAD.match(path):
            return c.settings.document_max_bytes + 64 * 1024  # room for the multipart framing
        return c.settings.max_body_bytes

    return limit_for


def create_app(
    container: Container,
    *,
    own_container: bool = False,
    run_worker: bool = False,
    simulators: Mapping[str, Any] | None = None,
    routers: Sequence[APIRouter] = (),
) -> FastAPI:
    """``run_worker`` runs the worker inside the server process (the embedded demo); ``simulators``
    (name -> ASGI app with ``state.simulator``) are mounted under ``/sim/<name>``."""
    mounted = dict(simulators or {})

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = asyncio.create_task(build_worker(container).run(stop)) if run_worker else None
        try:
            yield
        finally:
            stop.set()
            if task is not None:
                await task
            for sim in mounted.values():
                await sim.state.simulator.aclose()
            if own_container:
                await container.aclose()

    app = FastAPI(
        title="Tongbao",
        version=__version__,
        description=DESCRIPTION,
        generate_unique_id_function=_operation_id,
        lifespan=lifespan,
        dependencies=[Depends(refuse_nul_in_url)],
    )
    app.state.container = container
    install_error_handlers(app)
    install_openapi(app)
    for router in (
        health.router,
        me_api.router,
        echo_api.router,
        merchant_api.router,
        app_api.router,
        channel_api.router,
        methods_api.router,
        limits_api.router,
        policy_api.router,
        payments_api.router,
        payments_admin_api.router,
        callback_api.router,
        refunds_api.router,
        refunds_admin_api.router,
        refund_callback_api.router,
        notify_api.router,
        notify_api.admin_router,
        cases_api.router,
        ledger_api.router,
        ledger_admin_api.router,
        internal_recon_api.router,
        cashier.router,
        *routers,
    ):
        app.include_router(router)
    for name, sim in mounted.items():
        app.mount(f"/sim/{name}", sim)
    # Added innermost first: a request meets RequestId, then BodyLimit, then MerchantAuth, then
    # the net for unexpected errors (inside the door, so their answers are signed too), then the
    # check of JSON text.
    app.add_middleware(JsonTextMiddleware)
    app.add_middleware(UnexpectedErrorMiddleware)
    app.add_middleware(MerchantAuthMiddleware, container=container)
    app.add_middleware(BodyLimitMiddleware, limit_for=_body_limit(container))
    app.add_middleware(RequestIdMiddleware)
    return app
