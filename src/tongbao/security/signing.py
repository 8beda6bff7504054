"""The merchant API's signature scheme, used by the server and by ``tongbao.client`` alike.

Requests::

    Authorization: TONGBAO-HMAC-SHA256 app_id="…",timestamp="…",nonce="…",signature="…"
    string to sign = METHOD \\n PATH_AND_QUERY \\n TIMESTAMP \\n NONCE \\n BODY \\n

``TONGBAO-RSA-SHA256`` signs the same string with the app's RSA private key (PKCS#1 v1.5).
Responses and notifications carry ``Tongbao-Timestamp``, ``Tongbao-Nonce`` and
``Tongbao-Signature`` = base64(HMAC-SHA256(app secret, TIMESTAMP \\n NONCE \\n BODY \\n)).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key

HMAC_SCHEME: Final = "TONGBAO-HMAC-SHA256"
RSA_SCHEME: Final = "TONGBAO-RSA-SHA256"
SCHEMES: Final = (HMAC_SCHEME, RSA_SCHEME)
HEADER_TIMESTAMP: Final = "Tongbao-Timestamp"
HEADER_NONCE: Final = "Tongbao-Nonce"
HEADER_SIGNATURE: Final = "Tongbao-Signature"

_FIELD = re.compile(r'\s*([a-z_]+)="([^"]*)"\s*')
_NONCE = re.compile(r"[A-Za-z0-9_\-]{16,64}")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_APP_ID = re.compile(r"app_[0-9A-Z]{26}")
_REQUIRED_FIELDS: Final = ("app_id", "timestamp", "nonce", "signature")


class MalformedAuthorization(ValueError):
    pass


@dataclass(frozen=True)
class Authorization:
    scheme: str
    app_id: str
    timestamp: int
    nonce: str
    signature: str


def new_nonce() -> str:
    return secrets.token_urlsafe(24)


def request_message(method: str, path_and_query: str, timestamp: int, nonce: str, body: bytes) -> bytes:
    head = f"{method.upper()}\n{path_and_query}\n{timestamp}\n{nonce}\n".encode()
    return head + body + b"\n"


def response_message(timestamp: int, nonce: str, body: bytes) -> bytes:
    return f"{timestamp}\n{nonce}\n".encode() + body + b"\n"


def hmac_sign(secret: str, message: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def hmac_verify(secret: str, message: bytes, signature: str) -> bool:
    return hmac.compare_digest(hmac_sign(secret, message).encode(), signature.encode())


def sign_rsa_sha256(key: rsa.RSAPrivateKey, message: bytes) -> str:
    """base64(RSA-PKCS1v15-SHA256): the scheme of our RSA apps and of the channels alike."""
    return base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()


def verify_rsa_sha256(key: rsa.RSAPublicKey, message: bytes, signature: str) -> bool:
    try:
        raw = base64.b64decode(signature, validate=True)
        key.verify(raw, message, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def rsa_sign(private_key_pem: str, message: bytes) -> str:
    key = load_pem_private_key(private_key_pem.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return sign_rsa_sha256(key, message)


def rsa_verify(public_key_pem: str, message: bytes, signature: str) -> bool:
    key = load_pem_public_key(public_key_pem.encode())
    return isinstance(key, rsa.RSAPublicKey) and verify_rsa_sha256(key, message, signature)


def format_authorization(scheme: str, app_id: str, timestamp: int, nonce: str, signature: str) -> str:
    return f'{scheme} app_id="{app_id}",timestamp="{timestamp}",nonce="{nonce}",signature="{signature}"'


def _fields(rest: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for part in rest.split(","):
        match = _FIELD.fullmatch(part)
        if not match:
            raise MalformedAuthorization('fields must be written name="value" and separated by commas')
        name, value = match.groups()
        if name in fields:
            raise MalformedAuthorization(f"field {name} appears twice")
        fields[name] = value
    return fields


def parse_authorization(header: str) -> Authorization:
    """Strict parse: a known scheme, then exactly the four fields, each once, each well formed."""
    scheme, _, rest = header.strip().partition(" ")
    if scheme not in SCHEMES:
        raise MalformedAuthorization(f"the scheme must be {' or '.join(SCHEMES)}")
    fields = _fields(rest)
    unknown = set(fields) - set(_REQUIRED_FIELDS)
    if unknown:
        raise MalformedAuthorization(f"unknown field {sorted(unknown)[0]}")
    missing = [f for f in _REQUIRED_FIELDS if f not in fields]
    if missing:
        raise MalformedAuthorization(f"field {missing[0]} is missing")
    if not _APP_ID.fullmatch(fields["app_id"]):
        raise MalformedAuthorization("app_id is not an app id")
    if not _TIMESTAMP.fullmatch(fields["timestamp"]):
        raise MalformedAuthorization("timestamp must be whole seconds since the epoch")
    if not _NONCE.fullmatch(fields["nonce"]):
        raise MalformedAuthorization("nonce must be 16 to 64 characters of A-Z a-z 0-9 _ -")
    if not fields["signature"]:
        raise MalformedAuthorization("signature is empty")
    return Authorization(
        scheme, fields["app_id"], int(fields["timestamp"]), fields["nonce"], fields["signature"]
    )
