"""How the v3 API writes: compact UTF-8 JSON, and responses signed by the platform key."""

from __future__ import annotations

import json
import secrets
from typing import Any

from starlette.responses import Response

from tongbao.channels.wechatpay import protocol

from .state_platform import PlatformIdentity


def dumps(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def signed_response(
    platform: PlatformIdentity, serial: str, timestamp: int, status: int, data: Any | None
) -> Response:
    """A response signed by the platform over ``TIMESTAMP\\nNONCE\\nBODY\\n`` (empty body for 204)."""
    body = b"" if data is None else dumps(data)
    nonce = protocol.new_nonce()
    headers = {
        protocol.HEADER_REQUEST_ID: secrets.token_hex(24).upper(),
        protocol.HEADER_NONCE: nonce,
        protocol.HEADER_TIMESTAMP: str(timestamp),
        protocol.HEADER_SIGNATURE: platform.sign(str(timestamp), nonce, body),
        protocol.HEADER_SERIAL: serial,
        protocol.HEADER_SIGNATURE_TYPE: protocol.SCHEME,
    }
    media_type = None if data is None else "application/json; charset=utf-8"
    return Response(body, status_code=status, headers=headers, media_type=media_type)
