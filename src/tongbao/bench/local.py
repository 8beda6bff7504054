"""A Tongbao of the bench's own: the harness's processes on a scratch database of the PostgreSQL
server ``TONGBAO_DATABASE_URL`` names (dropped after the run), or on a SQLite file in the run's
temporary directory when that is not set (the embedded default a newcomer meets)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tongbao.harness.databases import scratch_database
from tongbao.harness.deployment import Deployment, Layout


@contextmanager
def bench_database(workdir: Path) -> Iterator[str]:
    given = os.environ.get("TONGBAO_DATABASE_URL") or ""
    if not given.startswith("postgresql"):
        yield given or f"sqlite+aiosqlite:///{workdir / 'tongbao.db'}"
        return
    with scratch_database(given, prefix="tongbao_bench") as url:
        yield url


def database_kind(url: str) -> str:
    return "postgresql" if url.startswith("postgresql") else "sqlite"


@contextmanager
def local_deployment(layout: Layout, notify_url: str) -> Iterator[Deployment]:
    """Started, seeded, and stopped again after the block; its logs go with its temporary directory."""
    with tempfile.TemporaryDirectory(prefix="tongbao-bench-") as tmp, bench_database(Path(tmp)) as url:
        workdir = Path(tmp)
        deployment = Deployment(url, workdir, layout, notify_url)
        try:
            deployment.start()
            yield deployment
        finally:
            deployment.close()
