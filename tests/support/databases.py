"""Which databases the suite runs on, and a throwaway database on each for one test session.

SQLite always. PostgreSQL when ``TONGBAO_TEST_PG_URL`` is set or 127.0.0.1:5432 answers;
``TONGBAO_TEST_REQUIRE_PG=1`` (CI) turns "not reachable" into a failure instead of a skip.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

from tongbao.harness.databases import scratch_database

DEFAULT_PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def pg_url() -> str:
    return os.environ.get("TONGBAO_TEST_PG_URL") or DEFAULT_PG_URL


def pg_required() -> bool:
    return os.environ.get("TONGBAO_TEST_REQUIRE_PG") == "1"


def pg_reachable() -> bool:
    url = make_url(pg_url())
    try:
        with socket.create_connection((url.host or "127.0.0.1", url.port or 5432), timeout=2):
            return True
    except OSError:
        return False


def backends() -> list[str]:
    found = ["sqlite"]
    if os.environ.get("TONGBAO_TEST_PG_URL") or pg_reachable():
        found.append("postgres")
    elif pg_required():
        raise RuntimeError(
            f"PostgreSQL is required (TONGBAO_TEST_REQUIRE_PG=1) but {pg_url()} does not answer"
        )
    return found


@contextmanager
def throwaway_database(backend: str, workdir: Path) -> Iterator[str]:
    """A URL to an empty database that is gone after the block."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{workdir / 'tongbao.db'}"
        return
    with scratch_database(pg_url(), prefix="tongbao_test") as url:
        yield url
