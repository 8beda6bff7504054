"""Apps: the internal business systems that call the merchant API, one merchant each."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from typing import Final
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

IP_ALLOWLIST_MAX: Final = 64
NOTIFY_URL_MAX_LEN: Final = 1024


class AppRuleBroken(Exception):
    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param


def parse_allowlist(entries: Sequence[str]) -> list[str]:
    """Normalised networks; an empty list lets every address through."""
    if len(entries) > IP_ALLOWLIST_MAX:
        raise AppRuleBroken("ip_allowlist", f"at most {IP_ALLOWLIST_MAX} entries")
    networks: list[str] = []
    for i, entry in enumerate(entries):
        try:
            networks.append(str(ipaddress.ip_network(entry.strip(), strict=False)))
        except ValueError as exc:
            raise AppRuleBroken(f"ip_allowlist.{i}", f"{entry!r} is not an IP address or network") from exc
    return networks


def ip_allowed(allowlist: Iterable[str], client_ip: str | None) -> bool:
    networks = list(allowlist)
    if not networks:
        return True
    if client_ip is None:
        return False
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(n) for n in networks)


def check_notify_url(url: str, param: str = "notify_url") -> str:
    parts = urlsplit(url)
    if len(url) > NOTIFY_URL_MAX_LEN or parts.scheme not in ("http", "https") or not parts.hostname:
        raise AppRuleBroken(
            param, f"{param} must be an http(s) URL of at most {NOTIFY_URL_MAX_LEN} characters"
        )
    return url


def check_rsa_public_key(pem: str) -> str:
    try:
        key = load_pem_public_key(pem.encode())
    except ValueError as exc:
        raise AppRuleBroken("rsa_public_key_pem", "not a PEM public key") from exc
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size < 2048:
        raise AppRuleBroken("rsa_public_key_pem", "an RSA public key of at least 2048 bits is required")
    return pem.strip() + "\n"
