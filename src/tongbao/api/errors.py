"""The error shape every 4xx/5xx answer has, and the handlers that produce it."""

from __future__ import annotations

import json
from collections.abc import MutableMapping
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from tongbao.api import validation
from tongbao.errors import TongbaoError
from tongbao.rules import InputRefused, RuleBroken

log = structlog.get_logger(__name__)

_HTTP_CODES = {
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def error_payload(status: int, code: str, message: str, param: str | None, request_id: str | None) -> bytes:
    error: dict[str, Any] = {"code": code, "message": message, "param": param, "request_id": request_id}
    return json.dumps({"error": error}, ensure_ascii=False, separators=(",", ":")).encode()


def request_id_of(scope_state: dict[str, Any]) -> str | None:
    value = scope_state.get("request_id")
    return value if isinstance(value, str) else None


def error_response(request: Request, status: int, code: str, message: str, param: str | None) -> JSONResponse:
    body = error_payload(status, code, message, param, request_id_of(request.scope.get("state", {})))
    return JSONResponse(content=json.loads(body), status_code=status)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(TongbaoError)
    async def _tongbao(request: Request, exc: TongbaoError) -> JSONResponse:
        return error_response(request, exc.status, exc.code, exc.message, exc.param)

    @app.exception_handler(RuleBroken)
    async def _rule(request: Request, exc: RuleBroken) -> JSONResponse:
        status = 400 if isinstance(exc, InputRefused) else 409
        return error_response(request, status, exc.code, exc.message, exc.param)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        kind = first.get("type", "")
        if kind == "json_invalid":
            return error_response(request, 400, "body_invalid_json", "the body is not valid JSON", "body")
        refused = validation.refusal(first)
        return error_response(request, 400, refused.code, refused.message, refused.param)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        return error_response(request, exc.status_code, code, str(exc.detail), None)

    # Unexpected exceptions are answered by the middleware (tongbao.api.middleware.run_guarded),
    # inside the request id and the merchant signature, instead of by Starlette's outermost layer.


INTERNAL_ERROR_MESSAGE = "an internal error occurred; nothing was lost"


def internal_error_payload(request_id: str | None) -> bytes:
    return error_payload(500, "internal_error", INTERNAL_ERROR_MESSAGE, None, request_id)


def log_unexpected(exc: BaseException, scope: MutableMapping[str, Any], *, answered: bool) -> None:
    """The one log line of an unexpected exception, naming its request."""
    log.error(
        "unhandled error",
        request_id=request_id_of(scope.get("state", {})),
        method=scope.get("method"),
        path=scope.get("path"),
        answered=answered,
        exc_info=exc,
    )


async def send_error(send: Any, exc: TongbaoError, request_id: str | None) -> None:
    """For ASGI middleware, which sits outside FastAPI's exception handlers."""
    body = error_payload(exc.status, exc.code, exc.message, exc.param, request_id)
    await send_json(send, exc.status, body)


async def send_json(send: Any, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
