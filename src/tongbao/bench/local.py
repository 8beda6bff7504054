"""A Tongbao of the bench's own: the harness's processes on ``TONGBAO_DATABASE_URL``, or on a SQLite
file in the run's temporary directory when that is not set (the embedded default a newcomer meets)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tongbao.harness.deployment import Deployment, Layout


def bench_database_url(workdir: Path) -> str:
    return os.environ.get("TONGBAO_DATABASE_URL") or f"sqlite+aiosqlite:///{workdir / 'tongbao.db'}"


def database_kind(url: str) -> str:
    return "postgresql" if url.startswith("postgresql") else "sqlite"


@contextmanager
def local_deployment(layout: Layout, notify_url: str) -> Iterator[Deployment]:
    """Started, seeded, and stopped again after the block; its logs go with its temporary directory."""
    with tempfile.TemporaryDirectory(prefix="tongbao-bench-") as tmp:
        workdir = Path(tmp)
        deployment = Deployment(bench_database_url(workdir), workdir, layout, notify_url)
        try:
            deployment.start()
            yield deployment
        finally:
            deployment.close()
