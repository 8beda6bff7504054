"""Checking the ``Authorization`` header of a v3 request, as WeChat Pay does."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Final

from tongbao.channels.wechatpay import protocol

from .gateway_errors import sign_error
from .state_models import Merchant

MAX_SKEW_S: Final = 300


def claimed_mchid(authorization: str | None) -> str | None:
    """The merchant a request says it comes from, even before it is verified (to pick the serial)."""
    try:
        return protocol.parse_authorization(authorization).mchid if authorization else None
    except ValueError:
        return None


def authenticate(
    merchants: Mapping[str, Merchant],
    authorization: str | None,
    *,
    method: str,
    url: str,
    body: bytes,
    now: datetime,
) -> Merchant:
    """The registered merchant that signed this request, or SIGN_ERROR (401) for any failure:
    no header, unknown mchid, another key's serial, a stale timestamp or a bad signature."""
    if not authorization:
        raise sign_error()
    try:
        auth = protocol.parse_authorization(authorization)
        timestamp = int(auth.timestamp)
    except ValueError as exc:
        raise sign_error() from exc
    merchant = merchants.get(auth.mchid)
    if merchant is None or auth.serial_no != merchant.serial_no:
        raise sign_error()
    if abs(now.timestamp() - timestamp) > MAX_SKEW_S:
        raise sign_error()
    signed = protocol.message(method.upper(), url, auth.timestamp, auth.nonce_str, body)
    if not protocol.verify(merchant.public_key, signed, auth.signature):
        raise sign_error()
    return merchant
