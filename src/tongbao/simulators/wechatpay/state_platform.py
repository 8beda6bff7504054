"""The simulated platform's own key: one RSA-2048 key, named two ways as WeChat Pay does.

Merchants on "public key" verification know it by a public-key id (``PUB_KEY_ID_01…``); merchants on
"certificate" verification know it by the serial of a platform certificate, fetched from
``/v3/certificates`` encrypted with their API v3 key.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from tongbao.channels.wechatpay import protocol
from tongbao.security import samples


@dataclass(frozen=True)
class PlatformIdentity:
    key: rsa.RSAPrivateKey
    public_key_pem: str
    public_key_id: str
    certificate_pem: str
    serial: str
    effective_time: datetime
    expire_time: datetime

    @classmethod
    def create(cls, key: rsa.RSAPrivateKey | None = None) -> PlatformIdentity:
        key = key or samples.new_rsa_key()
        certificate_pem = samples.self_signed_certificate(key, "Tenpay.com Root CA simulator")
        certificate = x509.load_pem_x509_certificate(certificate_pem.encode())
        digits = "".join(secrets.choice("0123456789") for _ in range(30))
        return cls(
            key=key,
            public_key_pem=samples.public_pem(key),
            public_key_id=f"PUB_KEY_ID_01{digits}",
            certificate_pem=certificate_pem,
            serial=f"{certificate.serial_number:X}",
            effective_time=certificate.not_valid_before_utc,
            expire_time=certificate.not_valid_after_utc,
        )

    def sign(self, timestamp: str, nonce: str, body: bytes) -> str:
        return protocol.sign(self.key, protocol.message(timestamp, nonce, body))
