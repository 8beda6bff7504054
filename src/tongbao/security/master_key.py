"""Where the master key comes from: the environment, or — for the demo only — a generated file."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import structlog

from tongbao.config import Settings
from tongbao.security.secretbox import decode_master_key, generate_master_key

log = structlog.get_logger(__name__)
DEMO_KEY_FILE = "master.key"


class MasterKeyMissing(RuntimeError):
    pass


@dataclass(frozen=True)
class MasterKey:
    key: bytes
    source: str  # "environment" or the demo key file's path

    @property
    def is_demo(self) -> bool:
        return self.source != "environment"


def load_master_key(settings: Settings, *, allow_demo_file: bool, create_demo_file: bool) -> MasterKey:
    if settings.master_key:
        return MasterKey(decode_master_key(settings.master_key), "environment")
    path = settings.data_dir / DEMO_KEY_FILE
    if allow_demo_file and not path.exists() and create_demo_file:
        _write_private(path, generate_master_key())
    if allow_demo_file and path.exists():
        log.warning(
            "DEMO MASTER KEY IN USE: secrets are encrypted with a key stored next to the data. "
            "Set TONGBAO_MASTER_KEY for anything but a demo.",
            key_file=str(path),
        )
        return MasterKey(decode_master_key(path.read_text()), str(path))
    raise MasterKeyMissing(
        "TONGBAO_MASTER_KEY is not set. Generate one with `tongbao keygen` and keep it in your secret "
        "store; Tongbao will not encrypt channel credentials and app secrets without it."
    )


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text + "\n")
