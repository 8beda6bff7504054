"""``Annotated`` dependencies the routers share: the container, the calling app, the operator.

They are ``async`` although none waits for anything: FastAPI runs a plain function dependency in a
worker thread, a hand-off per dependency per request."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from tongbao.container import Container
from tongbao.errors import InvalidRequest, Unauthorized
from tongbao.merchants.app_service import Caller
from tongbao.security.models import Operator
from tongbao.security.operators import OperatorService
from tongbao.security.redaction import remember_secret


async def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]

# Declared for the OpenAPI document; the signature itself is checked by MerchantAuthMiddleware.
_merchant_signature = APIKeyHeader(
    name="Authorization",
    scheme_name="TongbaoSignature",
    description="TONGBAO-HMAC-SHA256 or TONGBAO-RSA-SHA256 request signature; see docs/api.md",
    auto_error=False,
)


async def get_caller(request: Request, _: Annotated[str | None, Depends(_merchant_signature)]) -> Caller:
    caller = request.scope.get("state", {}).get("caller")
    if not isinstance(caller, Caller):  # only reachable if a route is mounted outside /v1/
        raise Unauthorized("this endpoint needs a signed request", code="authorization_missing")
    return caller


CallerDep = Annotated[Caller, Depends(get_caller)]


async def refuse_nul_in_url(request: Request) -> None:
    """Every route's path and query parameters: PostgreSQL text cannot hold NUL, so an id or a
    filter holding one is bad input, answered before any route reads the database with it."""
    for name, value in (*request.path_params.items(), *request.query_params.multi_items()):
        if isinstance(value, str) and "\x00" in value:
            raise InvalidRequest(f"{name} must not contain NUL characters", param=name)


_operator_bearer = HTTPBearer(scheme_name="OperatorToken", auto_error=False)


async def get_operator(
    container: ContainerDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_operator_bearer)],
) -> Operator:
    if credentials is None:
        raise Unauthorized("send Authorization: Bearer <operator token>", code="operator_unauthorized")
    remember_secret(credentials.credentials)  # kept out of anything this request logs
    return await OperatorService(container).authenticate(credentials.credentials)


OperatorDep = Annotated[Operator, Depends(get_operator)]
