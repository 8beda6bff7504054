"""The OpenAPI document: every answer an operation can give, and how each API is authenticated.

FastAPI describes the success of each route and a 422 that Tongbao never sends (its validation
failures are 400s). This module replaces that 422 with the statuses each operation can answer, all
in the one error shape (``ErrorResponse``), and describes the two ways in: a signed request for the
merchant API (``/v1``) and an operator's bearer token for ``/admin/v1``. What an operation can
answer follows from what it takes (a body, parameters, an id in the path) and from the few tables
below, which name the operations whose rules can refuse (409) and that depend on a channel (502).
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field

from tongbao.security import signing

MERCHANT_SCHEME: Final = "TongbaoSignature"
OPERATOR_SCHEME: Final = "OperatorToken"


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable: branch on it (docs/api.md lists every code)")
    message: str = Field(description="For people; may be reworded")
    param: str | None = Field(description="The field or header at fault, as a dotted path; or null")
    request_id: str | None = Field(description="The Tongbao-Request-Id of this answer")


class ErrorResponse(BaseModel):
    """Every 4xx and 5xx answer."""

    error: ErrorDetail


# Operations whose rules can refuse a well-formed request (409), besides every signed POST, whose
# Idempotency-Key can be reused or still in progress.
CONFLICTS: Final = frozenset(
    {
        "create_merchant", "update_merchant", "submit_merchant", "approve_merchant", "reject_merchant",
        "activate_merchant", "suspend_merchant", "reinstate_merchant", "upload_document",
        "create_app", "update_app", "create_channel_account", "update_channel_account", "bind_channel",
        "admin_resend_notification", "decide_case",
    }
)  # fmt: skip
# Operations that wait on a channel's answer and say so when it cannot be had (502).
CHANNEL_BOUND: Final = frozenset({"close"})
# Operations that look up something named in their body or query rather than in their path.
LOOKUPS: Final = frozenset(
    {"find_payment", "find_refund", "create_refund", "create_app", "create_channel_account"}
)
# Uploads, which take only some types of file (415).
UPLOADS: Final = frozenset({"upload_document"})

_REASONS: Final = {
    400: "Bad input: the code and param say which field and what is wrong",
    401: "Not authenticated",
    403: "Authenticated, but not allowed",
    404: "Not found",
    409: "Refused by a rule, given the state of things",
    413: "The body is over the limit",
    415: "Not a content type this operation reads",
    500: "A fault in Tongbao; nothing half-done is kept",
    502: "The channel did not answer clearly; nothing is concluded, try again",
}
_SIGNED_HEADERS: Final = {
    name: {"description": description, "schema": {"type": "string"}}
    for name, description in (
        (signing.HEADER_TIMESTAMP, "Unix seconds of the server's clock when it signed"),
        (signing.HEADER_NONCE, "A fresh nonce of this answer"),
        (signing.HEADER_SIGNATURE, "base64(HMAC-SHA256(app secret, TIMESTAMP\\nNONCE\\nBODY\\n))"),
    )
}
_IDEMPOTENCY_KEY: Final = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "1-255 visible ASCII characters; the same key with the same request replays its answer",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
}
_SECURITY_SCHEMES: Final = {
    MERCHANT_SCHEME: {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": (
            'TONGBAO-HMAC-SHA256 app_id="…",timestamp="…",nonce="…",signature="…" (or '
            "TONGBAO-RSA-SHA256), over METHOD, PATH_AND_QUERY, TIMESTAMP, NONCE and the body bytes; "
            "see docs/api.md. Answers past the door are signed back in the Tongbao-Timestamp, "
            "Tongbao-Nonce and Tongbao-Signature headers."
        ),
    },
    OPERATOR_SCHEME: {
        "type": "http",
        "scheme": "bearer",
        "description": "Authorization: Bearer <operator token> (from `tongbao operator create`)",
    },
}


def _error(status: int) -> dict[str, Any]:
    return {
        "description": _REASONS[status],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}},
    }


def _statuses(path: str, method: str, operation: dict[str, Any]) -> set[int]:
    """The error statuses one operation can answer."""
    op_id = operation.get("operationId", "")
    params = operation.get("parameters", [])
    has_body = "requestBody" in operation
    signed = path.startswith("/v1/")
    statuses = {500}
    if has_body or params or (signed and method == "post"):
        statuses.add(400)
    if signed or path.startswith("/admin/v1/"):
        statuses.add(401)
    if signed:
        statuses |= {403, 413}  # a disabled app or an address off its allowlist; every body is read
    if any(p.get("in") == "path" for p in params) or op_id in LOOKUPS:
        statuses.add(404)
    if op_id in CONFLICTS or (signed and method == "post"):
        statuses.add(409)
    if has_body:
        statuses.add(413)
    if op_id in UPLOADS:
        statuses.add(415)
    if op_id in CHANNEL_BOUND:
        statuses.add(502)
    return statuses


def describe(document: dict[str, Any]) -> dict[str, Any]:
    """Adds the error answers, the error schema and the security schemes to FastAPI's document."""
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    error_schema = ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(error_schema.pop("$defs", {}))
    schemas["ErrorResponse"] = error_schema
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    components["securitySchemes"] = dict(_SECURITY_SCHEMES)
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            for status in sorted(_statuses(path, method, operation)):
                responses.setdefault(str(status), _error(status))
            if path.startswith("/v1/"):
                operation["security"] = [{MERCHANT_SCHEME: []}]
                for status, response in responses.items():
                    if status not in ("401", "403", "413"):  # refused at the door: not signed
                        response.setdefault("headers", {}).update(_SIGNED_HEADERS)
                if method == "post":
                    # One declaration, with its bounds, even where a route reads the header itself.
                    params = [
                        p
                        for p in operation.get("parameters", [])
                        if not (p.get("in") == "header" and p.get("name", "").lower() == "idempotency-key")
                    ]
                    operation["parameters"] = [*params, _IDEMPOTENCY_KEY]
            elif path.startswith("/admin/v1/"):
                operation["security"] = [{OPERATOR_SCHEME: []}]
    return document


def install_openapi(app: FastAPI) -> None:
    """``app.openapi()`` (and so ``/openapi.json``) serves the described document, built once."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = describe(document)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
