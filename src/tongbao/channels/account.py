"""What the adapter registry needs to know of a channel account: a plain value, not a database row."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class AccountConfig:
    id: str
    channel: str
    base_url: str
    config: Mapping[str, str]
    # The credentials as sealed by the secret box, and the associated data they were sealed with.
    sealed_credentials: str
    credentials_aad: str
