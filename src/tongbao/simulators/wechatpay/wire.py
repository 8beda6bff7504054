"""HTTP details shared by the v3 routes: the path as the channel sees it, and signed responses."""

from __future__ import annotations

import json
import secrets
from typing import Any

from starlette.responses import Response
from starlette.types import Scope

from tongbao.channels.wechatpay import protocol

from .platform import PlatformIdentity


def channel_path(scope: Scope) -> str:
    """The request target as the real channel would see it: the path below any mount prefix, then
    ``?query`` exactly as sent. Signatures cover this, so a mounted simulator behaves as at the root."""
    raw = scope.get("raw_path")
    path = raw.decode("latin-1") if raw else scope["path"]
    # Starlette keeps the full path under a mount and names the prefix in root_path.
    root = scope.get("root_path", "")
    if root and path.startswith(root) and path[len(root) :][:1] in ("/", ""):
        path = path[len(root) :] or "/"
    query = scope.get("query_string", b"")
    return f"{path}?{query.decode('latin-1')}" if query else path


def mount_prefix(scope: Scope) -> str:
    """The prefix the simulator is mounted under ("" at the root), for links it hands out."""
    return str(scope.get("root_path", "")).rstrip("/")


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
