"""A scratch database for one run, on the PostgreSQL server a URL names: made empty, dropped after.

A run seeds a merchant whose master key lives only as long as the run; what it leaves behind (jobs
that can no longer decrypt their account's keys, pending payments) would burden the next run's
workers and skew its figures. On its own database each run starts from nothing and leaves nothing.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine


async def _on_server(url: str, sql: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.exec_driver_sql(sql)
    finally:
        await engine.dispose()


@contextmanager
def scratch_database(server_url: str, prefix: str = "tongbao_run") -> Iterator[str]:
    """The URL of a new, empty database next to ``server_url``'s; gone after the block."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    asyncio.run(_on_server(server_url, f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_on_server(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
