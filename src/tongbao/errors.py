"""Every error Tongbao answers with, each with a stable code.

    TongbaoError                      code, HTTP status, message, param
    ├── InvalidRequest (400)          bad input: parameter_invalid, parameter_missing, …
    ├── Unauthorized (401)            authorization_missing, signature_invalid, replayed_request, …
    ├── Forbidden (403)               app_disabled, ip_not_allowed, merchant_not_active
    ├── NotFound (404)                payment_not_found, refund_not_found, …; resource_missing
    ├── Conflict (409)                name_taken, transition_invalid, idempotency_key_reused, …
    ├── PayloadTooLarge (413)         payload_too_large, document_too_large
    ├── UnsupportedMediaType (415)    document_type_unsupported
    └── ChannelUnavailable (502)      channel_unavailable: the channel's answer is not known

The API turns each into ``{"error": {"code", "message", "param", "request_id"}}``.
docs/api.md lists every code with its status; tests/api/test_error_codes_documented.py finds the
codes raised here and elsewhere in the source and fails on any the guide does not list.
"""

from __future__ import annotations


class TongbaoError(Exception):
    status = 400
    default_code = "invalid_request"

    def __init__(self, message: str, *, code: str | None = None, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.param = param


class InvalidRequest(TongbaoError):
    status = 400
    default_code = "parameter_invalid"


class Unauthorized(TongbaoError):
    status = 401
    default_code = "unauthorized"


class Forbidden(TongbaoError):
    status = 403
    default_code = "forbidden"


class NotFound(TongbaoError):
    status = 404
    default_code = "resource_missing"


class Conflict(TongbaoError):
    status = 409
    default_code = "conflict"


class PayloadTooLarge(TongbaoError):
    status = 413
    default_code = "payload_too_large"


class UnsupportedMediaType(TongbaoError):
    status = 415
    default_code = "unsupported_media_type"


class ChannelUnavailable(TongbaoError):
    """The channel did not answer, or not clearly: nothing is concluded, the caller may retry."""

    status = 502
    default_code = "channel_unavailable"
