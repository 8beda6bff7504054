"""The platform keys a WeChat Pay merchant verifies answers and callbacks with.

Public-key mode: one platform public key, configured with its id (``PUB_KEY_ID_…``).
Certificate mode: platform certificates downloaded from ``/v3/certificates``, each encrypted with
the API v3 key; they are cached per account and fetched again when an unknown serial shows up.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from tongbao.channels.wechatpay import protocol

REFRESH_AT_MOST_EVERY = timedelta(seconds=60)


def rsa_public_key(pem: str) -> rsa.RSAPublicKey:
    key = load_pem_public_key(pem.encode())
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("the platform key is not an RSA key")
    return key


def certificates_from_listing(apiv3_key: bytes, body: bytes) -> dict[str, rsa.RSAPublicKey]:
    """Decrypts a ``/v3/certificates`` answer into serial -> public key."""
    found: dict[str, rsa.RSAPublicKey] = {}
    for item in json.loads(body)["data"]:
        sealed = item["encrypt_certificate"]
        if sealed.get("algorithm") != protocol.AEAD_ALGORITHM:
            raise ValueError("unsupported certificate encryption")
        pem = protocol.decrypt(
            apiv3_key, sealed["nonce"], sealed.get("associated_data", ""), sealed["ciphertext"]
        )
        key = x509.load_pem_x509_certificate(pem).public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            raise ValueError("a platform certificate without an RSA key")
        found[str(item["serial_no"]).upper()] = key
    return found


@dataclass
class CertificateCache:
    """Per channel account: serial -> key, and when they were last fetched."""

    keys: dict[str, dict[str, rsa.RSAPublicKey]] = field(default_factory=dict)
    fetched_at: dict[str, datetime] = field(default_factory=dict)

    async def key(
        self,
        account_id: str,
        serial: str,
        now: datetime,
        fetch: Callable[[], Awaitable[dict[str, rsa.RSAPublicKey]]],
    ) -> rsa.RSAPublicKey | None:
        serial = serial.upper()
        known = self.keys.get(account_id, {})
        if serial in known:
            return known[serial]
        last = self.fetched_at.get(account_id)
        if last is not None and now - last < REFRESH_AT_MOST_EVERY:
            return None  # a forged serial must not make us hammer the channel
        self.fetched_at[account_id] = now
        self.keys[account_id] = await fetch()
        return self.keys[account_id].get(serial)
