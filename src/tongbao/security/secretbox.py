"""Secrets at rest: AES-256-GCM under the master key.

A sealed value is ``v1.<base64(nonce || ciphertext+tag)>``. The associated data names what the
secret belongs to (``app_secret:aps_…``), so a ciphertext copied onto another row fails to open.
"""

from __future__ import annotations

import base64
import binascii
import os
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION: Final = "v1"
NONCE_BYTES: Final = 12


class MasterKeyInvalid(ValueError):
    pass


class SecretUnreadable(Exception):
    pass


def decode_master_key(text: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.strip().encode() + b"==")
    except (binascii.Error, ValueError) as exc:
        raise MasterKeyInvalid("the master key is not base64") from exc
    if len(key) != 32:
        raise MasterKeyInvalid("the master key must decode to 32 bytes")
    return key


def generate_master_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


class SecretBox:
    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, plaintext: str, context: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), context.encode())
        return f"{VERSION}.{base64.b64encode(nonce + sealed).decode()}"

    def open(self, token: str, context: str) -> str:
        version, _, payload = token.partition(".")
        if version != VERSION:
            raise SecretUnreadable(f"unknown secret format {version!r}")
        try:
            raw = base64.b64decode(payload, validate=True)
            plain = self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode())
        except (InvalidTag, binascii.Error, ValueError) as exc:
            raise SecretUnreadable("the secret does not open with this master key") from exc
        return plain.decode()
