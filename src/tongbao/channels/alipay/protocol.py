"""Alipay OpenAPI (``gateway.do``) wire rules, shared by the adapter and the simulator.

Requests are form parameters ``app_id, method, format, charset, sign_type=RSA2, timestamp, version,
notify_url, biz_content, sign``; ``sign`` is RSA-SHA256 (PKCS#1 v1.5, base64) over the parameters
sorted by name and written ``k=v&…`` with ``sign`` and empty values left out. Answers are
``{"<method with dots as underscores>_response": {...}, "sign": "…"}`` where the signature covers the
response node's text exactly as it stands in the body. Asynchronous notifications are form POSTs
signed like requests, except that ``sign_type`` is left out of the signed string too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, Final
from urllib.parse import urlencode

from cryptography.hazmat.primitives.asymmetric import rsa

from tongbao.security.signing import sign_rsa_sha256, verify_rsa_sha256

BEIJING: Final = timezone(timedelta(hours=8))
TIME_FORMAT: Final = "%Y-%m-%d %H:%M:%S"
SIGN_TYPE: Final = "RSA2"
CHARSET: Final = "utf-8"
VERSION: Final = "1.0"

CODE_SUCCESS: Final = "10000"
CODE_WAITING: Final = "10003"  # barcode: the payer is confirming on the phone
CODE_UNAVAILABLE: Final = "20000"
CODE_MISSING: Final = "40001"
CODE_INVALID: Final = "40002"
CODE_BUSINESS: Final = "40004"

# After a notification goes unanswered: 4m, 10m, 10m, 1h, 2h, 6h, 15h (the first try is at once).
NOTIFY_RETRY_DELAYS_S: Final = (240, 600, 600, 3600, 7200, 21600, 54000)

TRADE_STATUSES: Final = ("WAIT_BUYER_PAY", "TRADE_SUCCESS", "TRADE_FINISHED", "TRADE_CLOSED")
# alipay.trade.fastpay.refund.query's refund_status. The docs name REFUND_SUCCESS for refunds made with
# alipay.trade.refund; PROCESSING and FAIL are the words of refunds Alipay carries out later.
REFUND_SUCCESS: Final = "REFUND_SUCCESS"
REFUND_PROCESSING: Final = "REFUND_PROCESSING"
REFUND_FAIL: Final = "REFUND_FAIL"
# query_options that make the refund query answer with the refund's time.
REFUND_QUERY_OPTIONS: Final = ("gmt_refund_pay",)
# A payer's barcode: 16 to 24 digits beginning 25 to 30.
AUTH_CODE: Final = re.compile(r"(2[5-9]|30)[0-9]{14,22}")
_TIME: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")
_DECODER: Final = json.JSONDecoder()


def format_time(moment: datetime) -> str:
    return moment.astimezone(BEIJING).strftime(TIME_FORMAT)


def parse_time(text: str) -> datetime:
    """ "2026-11-25 10:34:56" in Beijing time, as an aware datetime. Raises ValueError."""
    if not _TIME.fullmatch(text):
        raise ValueError(f"not an Alipay time: {text!r}")
    return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=BEIJING)


def content_to_sign(params: Mapping[str, str], exclude: Iterable[str] = ("sign",)) -> bytes:
    left_out = set(exclude)
    pairs = sorted((k, v) for k, v in params.items() if k not in left_out and v != "")
    return "&".join(f"{k}={v}" for k, v in pairs).encode()


def sign_params(key: rsa.RSAPrivateKey, params: Mapping[str, str]) -> str:
    return sign_rsa_sha256(key, content_to_sign(params))


def verify_params(
    public_key: rsa.RSAPublicKey, params: Mapping[str, str], *, notification: bool = False
) -> bool:
    exclude = ("sign", "sign_type") if notification else ("sign",)
    return verify_rsa_sha256(public_key, content_to_sign(params, exclude), params.get("sign", ""))


def signed(
    key: rsa.RSAPrivateKey, params: Mapping[str, str], *, notification: bool = False
) -> dict[str, str]:
    """``params`` with their ``sign`` added (without empty values)."""
    exclude = ("sign", "sign_type") if notification else ("sign",)
    out = {k: v for k, v in params.items() if v != "" and k != "sign"}
    out["sign"] = sign_rsa_sha256(key, content_to_sign(out, exclude))
    return out


def query_string(params: Mapping[str, str]) -> str:
    """Percent-encoded ``k=v&…`` in name order, for URLs and app order strings."""
    return urlencode(sorted(params.items()))


def biz_json(content: Any) -> str:
    return json.dumps(content, ensure_ascii=False, separators=(",", ":"))


def verify_text(public_key: rsa.RSAPublicKey, text: str, signature: str) -> bool:
    return verify_rsa_sha256(public_key, text.encode(), signature)


def response_node(method: str) -> str:
    return method.replace(".", "_") + "_response"


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\n\r":
        pos += 1
    return pos


def top_level_spans(text: str) -> dict[str, tuple[int, int]]:
    """For a JSON object text, where each top-level member's value starts and ends, exactly as
    written. Raises ValueError for anything that is not a JSON object."""
    pos = _skip(text, 0)
    if text[pos : pos + 1] != "{":
        raise ValueError("not a JSON object")
    pos = _skip(text, pos + 1)
    spans: dict[str, tuple[int, int]] = {}
    if text[pos : pos + 1] == "}":
        return spans
    while True:
        if text[pos : pos + 1] != '"':
            raise ValueError("expected a member name")
        name, pos = _DECODER.raw_decode(text, pos)
        pos = _skip(text, pos)
        if text[pos : pos + 1] != ":":
            raise ValueError("expected ':'")
        start = _skip(text, pos + 1)
        _value, end = _DECODER.raw_decode(text, start)
        if name in spans:
            raise ValueError(f"member {name!r} appears twice")
        spans[name] = (start, end)
        pos = _skip(text, end)
        separator = text[pos : pos + 1]
        if separator == "}":
            if text[pos + 1 :].strip(" \t\n\r"):
                raise ValueError("text after the JSON object")
            return spans
        if separator != ",":
            raise ValueError("expected ',' or '}'")
        pos = _skip(text, pos + 1)


def response_body(key: rsa.RSAPrivateKey, node_name: str, node: Mapping[str, Any]) -> bytes:
    """An answer as Alipay writes it: the node serialised once, signed, embedded verbatim."""
    node_text = biz_json(node)
    signature = sign_rsa_sha256(key, node_text.encode())
    return f'{{"{node_name}":{node_text},"sign":{json.dumps(signature)}}}'.encode()
