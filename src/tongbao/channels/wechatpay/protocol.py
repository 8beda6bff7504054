"""WeChat Pay API v3 wire rules, shared by the adapter and the simulator.

Requests carry ``Authorization: WECHATPAY2-SHA256-RSA2048 mchid="…",nonce_str="…",signature="…",
timestamp="…",serial_no="…"`` where the signature is RSA-SHA256 (PKCS#1 v1.5) over
``METHOD\\nURL\\nTIMESTAMP\\nNONCE\\nBODY\\n`` (URL = path and query). Responses and callbacks are
signed by the platform over ``TIMESTAMP\\nNONCE\\nBODY\\n`` and name the platform key in
``Wechatpay-Serial``. Callback resources and platform certificates are AEAD_AES_256_GCM with the
merchant's 32-byte API v3 key; the ciphertext is base64 of ciphertext || 16-byte tag.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tongbao.security.signing import sign_rsa_sha256, verify_rsa_sha256

SCHEME: Final = "WECHATPAY2-SHA256-RSA2048"
HEADER_TIMESTAMP: Final = "Wechatpay-Timestamp"
HEADER_NONCE: Final = "Wechatpay-Nonce"
HEADER_SIGNATURE: Final = "Wechatpay-Signature"
HEADER_SERIAL: Final = "Wechatpay-Serial"
HEADER_SIGNATURE_TYPE: Final = "Wechatpay-Signature-Type"
HEADER_REQUEST_ID: Final = "Request-ID"
AEAD_ALGORITHM: Final = "AEAD_AES_256_GCM"
BEIJING: Final = timezone(timedelta(hours=8))
# Delays before each retry of an unanswered callback: 15s, 15s, 30s, 3m, 10m, 20m, 30m, 30m, 30m,
# 60m, 3h, 3h, 3h, 6h, 6h. Tongbao retries its own merchant notifications on the same schedule.
CALLBACK_RETRY_DELAYS_S: Final = (
    15,
    15,
    30,
    180,
    600,
    1200,
    1800,
    1800,
    1800,
    3600,
    10800,
    10800,
    10800,
    21600,
    21600,
)

_AUTH_FIELD = re.compile(r'\s*([a-z_]+)="([^"]*)"\s*')
_AUTH_FIELDS: Final = ("mchid", "nonce_str", "signature", "timestamp", "serial_no")


def message(*parts: str | bytes) -> bytes:
    """Each part followed by a newline, as every v3 signature wants."""
    return b"".join((p.encode() if isinstance(p, str) else p) + b"\n" for p in parts)


def sign(private_key: rsa.RSAPrivateKey, data: bytes) -> str:
    return sign_rsa_sha256(private_key, data)


def verify(public_key: rsa.RSAPublicKey, data: bytes, signature_b64: str) -> bool:
    return verify_rsa_sha256(public_key, data, signature_b64)


def new_nonce() -> str:
    return secrets.token_hex(16).upper()


@dataclass(frozen=True)
class RequestAuthorization:
    mchid: str
    nonce_str: str
    signature: str
    timestamp: str
    serial_no: str

    def header(self) -> str:
        fields = ",".join(f'{name}="{getattr(self, name)}"' for name in _AUTH_FIELDS)
        return f"{SCHEME} {fields}"


def sign_request(
    private_key: rsa.RSAPrivateKey,
    *,
    mchid: str,
    serial_no: str,
    method: str,
    url: str,
    body: bytes,
    timestamp: int,
    nonce: str,
) -> RequestAuthorization:
    signature = sign(private_key, message(method.upper(), url, str(timestamp), nonce, body))
    return RequestAuthorization(mchid, nonce, signature, str(timestamp), serial_no)


def parse_authorization(header: str) -> RequestAuthorization:
    scheme, _, rest = header.partition(" ")
    if scheme != SCHEME:
        raise ValueError("unsupported authorization scheme")
    values: dict[str, str] = {}
    for part in rest.split(","):
        match = _AUTH_FIELD.fullmatch(part)
        if match is None:
            raise ValueError("malformed authorization header")
        values[match.group(1)] = match.group(2)
    missing = [name for name in _AUTH_FIELDS if not values.get(name)]
    if missing:
        raise ValueError(f"authorization header lacks {', '.join(missing)}")
    return RequestAuthorization(**{name: values[name] for name in _AUTH_FIELDS})


def encrypt(apiv3_key: bytes, nonce: str, associated_data: str, plaintext: bytes) -> str:
    sealed = AESGCM(apiv3_key).encrypt(nonce.encode(), plaintext, associated_data.encode())
    return base64.b64encode(sealed).decode()


def decrypt(apiv3_key: bytes, nonce: str, associated_data: str, ciphertext_b64: str) -> bytes:
    """Raises ValueError when the resource is not ours or was tampered with."""
    try:
        sealed = base64.b64decode(ciphertext_b64, validate=True)
        return AESGCM(apiv3_key).decrypt(nonce.encode(), sealed, associated_data.encode())
    except (InvalidTag, binascii.Error, ValueError) as exc:
        raise ValueError("the resource does not decrypt with this API v3 key") from exc


def jsapi_pay_sign(
    private_key: rsa.RSAPrivateKey, appid: str, timestamp: str, nonce: str, package: str
) -> str:
    """``paySign`` for the JSAPI / mini-program invocation: appId, timeStamp, nonceStr, package."""
    return sign(private_key, message(appid, timestamp, nonce, package))


def app_pay_sign(
    private_key: rsa.RSAPrivateKey, appid: str, timestamp: str, nonce: str, prepay_id: str
) -> str:
    """``sign`` for the APP invocation: appid, timestamp, noncestr, prepayid."""
    return sign(private_key, message(appid, timestamp, nonce, prepay_id))


def rfc3339(moment: datetime) -> str:
    """WeChat writes times in Beijing time with the offset: 2026-11-25T10:34:56+08:00."""
    return moment.astimezone(BEIJING).replace(microsecond=0).isoformat()


def parse_rfc3339(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("a WeChat time carries its offset")
    return moment
