"""Channel accounts: which channels exist, and what each needs before it can talk to the channel.

A channel account is either the merchant's *own* channel merchant number (money goes straight to
the merchant) or the platform's *shared* one (money lands with the platform, which owes the
merchant). Each channel needs some public settings (kept in ``config``) and some secrets (kept
encrypted in ``credentials``, never returned).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key

from tongbao.channels.kinds import Channel


class AccountMode(StrEnum):
    OWN = "own"
    SHARED = "shared"


DEFAULT_BASE_URLS: Final = {
    Channel.WECHATPAY: "https://api.mch.weixin.qq.com",
    Channel.ALIPAY: "https://openapi.alipay.com/gateway.do",
    Channel.UNIONPAY: "https://gateway.95516.com",
}


def credentials_context(account_id: str) -> str:
    """The associated data binding an account's encrypted credentials to that account's row."""
    return f"channel_credentials:{account_id}"


class CredentialProblem(Exception):
    def __init__(self, code: str, param: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.param = param


def _rsa_private_key(value: str) -> None:
    try:
        key = load_pem_private_key(value.encode(), password=None)
    except TypeError as exc:  # an encrypted key: we cannot sign with it, and take no passphrase
        raise ValueError("the private key must not be encrypted") from exc
    if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < 2048:
        raise ValueError("an RSA private key of at least 2048 bits is required")


def _rsa_public_key(value: str) -> None:
    key = load_pem_public_key(value.encode())
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("an RSA public key is required")


def _certificate(value: str) -> None:
    cert = x509.load_pem_x509_certificate(value.encode())
    if not isinstance(cert.public_key(), rsa.RSAPublicKey):
        raise ValueError("the certificate must hold an RSA key")


def _apiv3_key(value: str) -> None:
    if len(value.encode()) != 32:
        raise ValueError("the API v3 key is exactly 32 bytes")


def _token(pattern: str) -> Callable[[str], None]:
    compiled = re.compile(pattern)

    def check(value: str) -> None:
        if not compiled.fullmatch(value):
            raise ValueError(f"must match {pattern}")

    return check


@dataclass(frozen=True)
class Field:
    name: str
    check: Callable[[str], None]
    required: bool = True


# Public settings per channel. WeChat Pay verifies the platform either with a platform public key
# (public-key mode) or with platform certificates fetched from /v3/certificates (certificate mode):
# the public-key pair is therefore optional as a pair.
CONFIG_FIELDS: Final[dict[Channel, tuple[Field, ...]]] = {
    Channel.WECHATPAY: (
        Field("mchid", _token(r"[0-9]{6,32}")),
        Field("appid", _token(r"[A-Za-z0-9_]{6,32}")),
        Field("merchant_serial_no", _token(r"[0-9A-Fa-f]{8,64}")),
        Field("platform_public_key_id", _token(r"[A-Za-z0-9_]{4,64}"), required=False),
        Field("platform_public_key_pem", _rsa_public_key, required=False),
    ),
    Channel.ALIPAY: (
        Field("app_id", _token(r"[0-9]{6,32}")),
        Field("alipay_public_key_pem", _rsa_public_key),
    ),
    Channel.UNIONPAY: (
        Field("mer_id", _token(r"[0-9A-Za-z]{15}")),
        Field("unionpay_certificate_pem", _certificate),
    ),
}

CREDENTIAL_FIELDS: Final[dict[Channel, tuple[Field, ...]]] = {
    Channel.WECHATPAY: (
        Field("private_key_pem", _rsa_private_key),
        Field("apiv3_key", _apiv3_key),
    ),
    Channel.ALIPAY: (Field("app_private_key_pem", _rsa_private_key),),
    Channel.UNIONPAY: (
        Field("signing_private_key_pem", _rsa_private_key),
        Field("signing_certificate_pem", _certificate),
    ),
}


def _check_fields(fields: tuple[Field, ...], values: Mapping[str, object], prefix: str) -> dict[str, str]:
    known = {f.name for f in fields}
    for name in values:
        if name not in known:
            raise CredentialProblem("parameter_unknown", f"{prefix}.{name}", f"unknown field {name!r}")
    checked: dict[str, str] = {}
    for f in fields:
        raw = values.get(f.name)
        if raw is None or raw == "":
            if f.required:
                raise CredentialProblem(
                    "credential_missing", f"{prefix}.{f.name}", f"{prefix}.{f.name} is required"
                )
            continue
        if not isinstance(raw, str):
            raise CredentialProblem("parameter_invalid", f"{prefix}.{f.name}", "must be a string")
        try:
            f.check(raw)
        except ValueError as exc:
            raise CredentialProblem("credential_invalid", f"{prefix}.{f.name}", str(exc)) from exc
        checked[f.name] = raw
    return checked


def check_config(channel: Channel, config: Mapping[str, object]) -> dict[str, str]:
    checked = _check_fields(CONFIG_FIELDS[channel], config, "config")
    if channel is Channel.WECHATPAY:
        pair = ("platform_public_key_id", "platform_public_key_pem")
        present = [name for name in pair if name in checked]
        if len(present) == 1:
            missing = next(name for name in pair if name not in checked)
            raise CredentialProblem(
                "credential_missing",
                f"config.{missing}",
                "platform public-key mode needs both platform_public_key_id and platform_public_key_pem",
            )
    return checked


def check_credentials(channel: Channel, credentials: Mapping[str, object]) -> dict[str, str]:
    return _check_fields(CREDENTIAL_FIELDS[channel], credentials, "credentials")


def check_base_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CredentialProblem("parameter_invalid", "base_url", "base_url must be an http(s) URL")
    return url.rstrip("/")


def check_owner(mode: AccountMode, merchant_id: str | None) -> None:
    if mode is AccountMode.OWN and not merchant_id:
        raise CredentialProblem(
            "parameter_missing",
            "merchant_id",
            "an own account belongs to a merchant: merchant_id is required",
        )
    if mode is AccountMode.SHARED and merchant_id is not None:
        raise CredentialProblem(
            "parameter_invalid", "merchant_id", "a shared account belongs to the platform: omit merchant_id"
        )
