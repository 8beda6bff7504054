"""A process's PostgreSQL pool follows its settings: its size, its wait, its statement cache."""

from __future__ import annotations

import asyncio
import time
from contextlib import AsyncExitStack
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine

from tongbao.config import Settings
from tongbao.db.engine import engine_for

from ..support.databases import backends, pg_url

pytestmark = pytest.mark.skipif("postgres" not in backends(), reason="the pool settings are PostgreSQL's")


def _engine(**settings: Any) -> AsyncEngine:
    return engine_for(Settings(database_url=pg_url(), **settings))


def test_a_process_opens_at_most_pool_size_plus_overflow_then_waits_its_timeout() -> None:
    async def go() -> float:
        engine = _engine(db_pool_size=2, db_max_overflow=1, db_pool_timeout_s=0.5)
        try:
            async with AsyncExitStack() as held:
                for _ in range(3):
                    conn = await held.enter_async_context(engine.connect())
                    await conn.execute(text("SELECT 1"))
                started = time.monotonic()
                with pytest.raises(PoolTimeout):
                    async with engine.connect():
                        pass
                return time.monotonic() - started
        finally:
            await engine.dispose()

    waited_s = asyncio.run(go())
    assert 0.4 <= waited_s < 5


async def _statement_names(engine: AsyncEngine) -> list[str]:
    try:
        async with engine.connect() as conn:
            for n in range(3):
                await conn.execute(text("SELECT :n + 1"), {"n": n})
                await conn.execute(text("SELECT count(*) FROM pg_class"))
            names = await conn.execute(text("SELECT name FROM pg_prepared_statements"))
            return list(names.scalars())
    finally:
        await engine.dispose()


def test_without_the_statement_cache_no_statement_is_left_under_a_name_another_client_would_take() -> None:
    # asyncpg numbers the statements it keeps (__asyncpg_stmt_1__, …) on every connection alike:
    # behind a transaction pooler, two clients' connections share a server one and collide.
    cached = asyncio.run(_statement_names(_engine(db_statement_cache=True)))
    assert any(name.startswith("__asyncpg_stmt_") for name in cached)

    uncached = asyncio.run(_statement_names(_engine(db_statement_cache=False)))
    assert not any(name.startswith("__asyncpg_stmt_") for name in uncached)
    assert len(uncached) <= 1  # at most the statement that asked


def test_pooled_connections_the_server_closed_are_replaced_before_use_without_a_ping() -> None:
    """A restart or a terminated backend leaves dead connections in the pool; the next transactions
    still run, though no checkout pings the server."""

    async def go() -> list[int]:
        engine = _engine(db_pool_size=3, db_max_overflow=0)
        try:
            pids = []
            async with AsyncExitStack() as held:  # three connections into the pool
                for _ in range(3):
                    conn = await held.enter_async_context(engine.connect())
                    pids.append((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())
            killer = _engine()
            try:
                async with killer.connect() as conn:
                    await conn.execute(
                        text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = ANY(:pids)"),
                        {"pids": pids},
                    )
            finally:
                await killer.dispose()
            await asyncio.sleep(0.2)
            answers = []
            for _ in range(4):
                async with engine.connect() as conn:
                    answers.append((await conn.execute(text("SELECT 41 + 1"))).scalar_one())
            return answers
        finally:
            await engine.dispose()

    assert asyncio.run(go()) == [42, 42, 42, 42]
