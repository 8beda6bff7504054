"""What the gateway checks before it looks at a signature: fields present, fixed values, formats."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final
from urllib.parse import urlsplit

from tongbao.channels.unionpay import protocol
from tongbao.money import string_to_fen

from .gateway_errors import GatewayError

_COMMON: Final = {
    "version": protocol.VERSION,
    "encoding": None,  # UTF-8, any case
    "signMethod": protocol.SIGN_METHOD,
    "bizType": protocol.BIZ_TYPE,
    "accessType": protocol.ACCESS_TYPE,
}
_REQUIRED: Final = ("merId", "orderId", "txnTime", "certId", "signature")
_MER_ID: Final = re.compile(r"[0-9A-Za-z]{15}")
_QUERY_ID: Final = re.compile(r"[0-9A-Za-z]{1,21}")


def _format_error(field: str) -> GatewayError:
    return GatewayError("30", f"报文格式错误[{field}]")


def _check_common(form: Mapping[str, str], txn: tuple[str, str]) -> None:
    for name in (*_COMMON, "txnType", "txnSubType", *_REQUIRED):
        if not form.get(name):
            raise _format_error(name)
    for name, wanted in _COMMON.items():
        if wanted is not None and form[name] != wanted:
            raise _format_error(name)
    if form["encoding"].upper() != protocol.ENCODING:
        raise _format_error("encoding")
    if (form["txnType"], form["txnSubType"]) != txn:
        raise _format_error("txnType")
    if _MER_ID.fullmatch(form["merId"]) is None:
        raise _format_error("merId")
    if protocol.ORDER_ID.fullmatch(form["orderId"]) is None:
        raise _format_error("orderId")
    try:
        protocol.parse_time(form["txnTime"])
    except ValueError as exc:
        raise _format_error("txnTime") from exc


def _url(form: Mapping[str, str], name: str) -> None:
    parts = urlsplit(form.get(name, ""))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _format_error(name)


def _amount(form: Mapping[str, str]) -> None:
    if form.get("channelType") not in (protocol.CHANNEL_WEB, protocol.CHANNEL_MOBILE):
        raise _format_error("channelType")
    if form.get("currencyCode") != protocol.CURRENCY_CODE:
        raise _format_error("currencyCode")
    try:
        if string_to_fen(form.get("txnAmt", "")) < 1:
            raise ValueError("zero")
    except ValueError as exc:
        raise _format_error("txnAmt") from exc


def check_front(form: Mapping[str, str]) -> None:
    _check_common(form, protocol.TXN_CONSUME)
    _amount(form)
    _url(form, "frontUrl")
    _url(form, "backUrl")
    if form.get("payTimeout"):
        try:
            protocol.parse_time(form["payTimeout"])
        except ValueError as exc:
            raise _format_error("payTimeout") from exc


def check_query(form: Mapping[str, str]) -> None:
    _check_common(form, protocol.TXN_QUERY)


def check_refund(form: Mapping[str, str]) -> None:
    """A refund (退货) names the consumption it returns by that one's queryId."""
    _check_common(form, protocol.TXN_REFUND)
    _amount(form)
    if _QUERY_ID.fullmatch(form.get("origQryId", "")) is None:
        raise _format_error("origQryId")
    _url(form, "backUrl")
