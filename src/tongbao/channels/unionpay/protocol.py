"""UnionPay online gateway (ACP 5.1.0) wire rules, shared by the adapter and the simulator.

Messages are flat ``key=value`` forms. The signature (``signMethod=01``) is computed over every
field except ``signature`` (requests leave empty fields out altogether), sorted by name and joined
as ``k=v&k=v``: take the lowercase hex SHA-256 digest of that string, sign the digest *text* with
RSA-SHA256 (PKCS#1 v1.5), base64 it.
``certId`` names the signing certificate by its serial number written in decimal.

Times (``txnTime``, ``payTimeout``) are Beijing time ``yyyyMMddHHmmss``; ``traceTime`` is
``MMddHHmmss`` (no year). Amounts (``txnAmt``) are fen strings, converted in ``tongbao.money``.

Order numbers: ACP wants ``orderId`` to be 8–40 letters and digits, no ``-`` or ``_``, and identifies a
transaction by ``merId`` + ``orderId`` + ``txnTime``. Tongbao's attempt ids are prefixed ULIDs
(``pat_01J…``), so the ``orderId`` is the id without its underscore (``pat01J…``, 29 characters): the
lowercase prefix and the uppercase ULID keep the mapping reversible. ``txnTime`` is the ULID's own
creation time in Beijing time, so a query needs nothing but the attempt id. Refunds are transactions
of their own (``txnType`` 04) and are named the same way from their refund ids (``rfd_01J…`` ->
``rfd01J…``); the consumption they return is named by its ``queryId`` (``origQryId``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Final
from urllib.parse import parse_qsl, urlencode

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from ulid import ULID

from tongbao.security.signing import sign_rsa_sha256, verify_rsa_sha256

VERSION: Final = "5.1.0"
ENCODING: Final = "UTF-8"
SIGN_METHOD: Final = "01"
BIZ_TYPE: Final = "000201"  # B2C gateway payment
ACCESS_TYPE: Final = "0"  # merchant connects directly
CURRENCY_CODE: Final = "156"  # CNY
CHANNEL_WEB: Final = "07"
CHANNEL_MOBILE: Final = "08"
TXN_CONSUME: Final = ("01", "01")  # txnType, txnSubType
TXN_QUERY: Final = ("00", "00")
TXN_REFUND: Final = ("04", "00")
FRONT_PATH: Final = "/gateway/api/frontTransReq.do"
BACK_PATH: Final = "/gateway/api/backTransReq.do"
QUERY_PATH: Final = "/gateway/api/queryTrans.do"
BEIJING: Final = timezone(timedelta(hours=8))
TIME_FORMAT: Final = "%Y%m%d%H%M%S"
# The gateway re-sends an unanswered back notify after roughly 1, 2, 4, 8 and 16 minutes.
NOTIFY_RETRY_DELAYS_S: Final = (60.0, 120.0, 240.0, 480.0, 960.0)

RESP_SUCCESS: Final = "00"
RESP_PENDING: Final = frozenset({"03", "04", "05"})  # timed out / state unknown / accepted, ask later
RESP_ACCEPTED: Final = "05"
RESP_DUPLICATE: Final = "12"
RESP_NO_SUCH_ORDER: Final = "34"

ORDER_ID: Final = re.compile(r"[0-9A-Za-z]{8,40}")
_TONGBAO_ORDER_NO: Final = re.compile(r"([a-z]{1,10})_([0-9A-HJKMNP-TV-Z]{26})")
_MAPPED_ORDER_ID: Final = re.compile(r"([a-z]{1,10})([0-9A-HJKMNP-TV-Z]{26})")
_TIME: Final = re.compile(r"[0-9]{14}")
_TRACE_TIME: Final = re.compile(r"[0-9]{10}")


# -- signatures ----------------------------------------------------------------------------------


def signing_string(params: Mapping[str, str]) -> str:
    """Every field but ``signature``, empty ones included: a message is verified as it came (only
    requests drop their blanks, in ``signed``, before they are signed)."""
    return "&".join(f"{k}={params[k]}" for k in sorted(params) if k != "signature")


def digest(params: Mapping[str, str]) -> bytes:
    """What is actually signed: the lowercase hex SHA-256 of the signing string, as text."""
    return hashlib.sha256(signing_string(params).encode()).hexdigest().encode()


def sign(key: rsa.RSAPrivateKey, params: Mapping[str, str]) -> str:
    return sign_rsa_sha256(key, digest(params))


def verify(key: rsa.RSAPublicKey, params: Mapping[str, str]) -> bool:
    signature = params.get("signature", "")
    return bool(signature) and verify_rsa_sha256(key, digest(params), signature)


def signed(key: rsa.RSAPrivateKey, cert_id: str, params: Mapping[str, str]) -> dict[str, str]:
    """The params with empty values dropped, ``certId`` set and ``signature`` added."""
    out = {k: v for k, v in params.items() if v != "" and k != "signature"}
    out["certId"] = cert_id
    out["signature"] = sign(key, out)
    return out


def load_certificate(pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode())


def cert_id(certificate: x509.Certificate) -> str:
    return str(certificate.serial_number)


def certificate_key(certificate: x509.Certificate) -> rsa.RSAPublicKey:
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("the certificate does not hold an RSA key")
    return key


# -- forms ---------------------------------------------------------------------------------------


def encode_form(params: Mapping[str, str]) -> str:
    """A form POST body (percent-encoded), as the gateway posts back notifies."""
    return urlencode(params)


def parse_form(body: bytes) -> dict[str, str]:
    """A percent-encoded form body; a field given twice makes the form unreadable."""
    pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
    form = dict(pairs)
    if len(form) != len(pairs):
        raise ValueError("a field appears twice")
    return form


def encode_answer(params: Mapping[str, str]) -> str:
    """A synchronous answer: ``k=v&k=v`` with the values as they are (the gateway does not
    percent-encode them; base64 signatures keep their ``+``, ``/`` and ``=``)."""
    return "&".join(f"{k}={v}" for k, v in params.items())


def _answer_parts(text: str) -> list[str]:
    """``k=v`` pieces split on ``&``, except inside a ``{…}`` or ``[…]`` value (reqReserved,
    customerInfo …), which the gateway writes unescaped."""
    parts: list[str] = []
    start, closing = 0, ""
    for pos, char in enumerate(text):
        if closing:
            closing = "" if char == closing else closing
        elif char in "{[":
            closing = "}" if char == "{" else "]"
        elif char == "&":
            parts.append(text[start:pos])
            start = pos + 1
    parts.append(text[start:])
    return parts


def parse_answer(body: bytes) -> dict[str, str]:
    text = body.decode("utf-8").strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]  # some answers come wrapped in braces as a whole
    answer: dict[str, str] = {}
    for part in _answer_parts(text):
        name, sep, value = part.partition("=")
        if not sep or not name or name in answer:
            raise ValueError("not a k=v&k=v answer")
        answer[name] = value
    return answer


# -- times ---------------------------------------------------------------------------------------


def format_time(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("a time without a zone")
    return moment.astimezone(BEIJING).strftime(TIME_FORMAT)


def parse_time(text: str) -> datetime:
    """``yyyyMMddHHmmss`` Beijing time -> an aware datetime (UTC)."""
    if _TIME.fullmatch(text) is None:
        raise ValueError(f"not a yyyyMMddHHmmss time: {text!r}")
    return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=BEIJING).astimezone(UTC)


def trace_moment(trace_time: str, txn_time: str) -> datetime:
    """``traceTime`` (MMddHHmmss) completed with the year of the order's ``txnTime``; a trace in
    January of an order sent on 31 December belongs to the next year."""
    if _TRACE_TIME.fullmatch(trace_time) is None:
        raise ValueError(f"not a MMddHHmmss time: {trace_time!r}")
    sent = parse_time(txn_time)
    year = sent.astimezone(BEIJING).year
    moment = parse_time(f"{year}{trace_time}")
    if moment < sent - timedelta(days=1):
        moment = parse_time(f"{year + 1}{trace_time}")
    return moment


# -- order numbers -------------------------------------------------------------------------------


def order_id(order_no: str) -> str:
    """``pat_01J…`` -> ``pat01J…``. Raises ValueError for order numbers Tongbao does not make."""
    match = _TONGBAO_ORDER_NO.fullmatch(order_no)
    if match is None:
        raise ValueError(f"not a Tongbao order number: {order_no!r}")
    return match.group(1) + match.group(2)


def order_no(order_id_: str) -> str:
    """The inverse of ``order_id``."""
    match = _MAPPED_ORDER_ID.fullmatch(order_id_)
    if match is None:
        raise ValueError(f"not an orderId made by Tongbao: {order_id_!r}")
    return f"{match.group(1)}_{match.group(2)}"


def txn_time(order_no_: str) -> str:
    """The order's ``txnTime``: the creation time its ULID carries, to the second, Beijing time."""
    match = _TONGBAO_ORDER_NO.fullmatch(order_no_)
    if match is None:
        raise ValueError(f"not a Tongbao order number: {order_no_!r}")
    return format_time(ULID.from_str(match.group(2)).datetime)
