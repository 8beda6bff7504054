"""A transaction PostgreSQL picks as a deadlock victim is run again, and then commits."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tongbao.db.engine import make_engine
from tongbao.db.retry import retrying

from ..support.databases import backends, throwaway_database


@pytest.mark.skipif("postgres" not in backends(), reason="deadlock detection is PostgreSQL's")
def test_a_deadlock_victim_is_retried_and_both_transactions_commit(tmp_path: Path) -> None:
    with throwaway_database("postgres", tmp_path) as url:

        async def scene() -> tuple[list[int], int]:
            engine = make_engine(url)
            try:
                async with engine.begin() as conn:
                    await conn.execute(text("CREATE TABLE t (id int PRIMARY KEY, n int NOT NULL)"))
                    await conn.execute(text("INSERT INTO t VALUES (1, 0), (2, 0)"))
                both_hold_one = asyncio.Barrier(2)
                runs: list[int] = []

                async def bump(first: int, second: int) -> int:
                    async def once() -> int:
                        runs.append(first)
                        async with engine.begin() as conn:
                            await conn.execute(text("UPDATE t SET n = n + 1 WHERE id = :i"), {"i": first})
                            if len(runs) <= 2:  # only the first two runs meet in the middle
                                await both_hold_one.wait()
                            await conn.execute(text("UPDATE t SET n = n + 1 WHERE id = :i"), {"i": second})
                        return first

                    return await retrying(once)

                await asyncio.gather(bump(1, 2), bump(2, 1))
                async with engine.connect() as conn:
                    total = int((await conn.execute(text("SELECT sum(n) FROM t"))).scalar_one())
                return runs, total
            finally:
                await engine.dispose()

        runs, total = asyncio.run(scene())
    assert len(runs) == 3  # one of the two was the victim and ran again
    assert total == 4  # and both committed their two updates


def test_other_database_errors_are_not_retried(tmp_path: Path) -> None:
    with throwaway_database("sqlite", tmp_path) as url:

        async def scene() -> int:
            engine = make_engine(url)
            calls = 0

            async def broken() -> None:
                nonlocal calls
                calls += 1
                async with engine.begin() as conn:
                    await conn.execute(text("SELECT * FROM no_such_table"))

            try:
                with pytest.raises(DBAPIError):
                    await retrying(broken)
            finally:
                await engine.dispose()
            return calls

        assert asyncio.run(scene()) == 1


def test_a_sqlite_writer_that_found_the_database_locked_is_retried_and_commits(tmp_path: Path) -> None:
    path = tmp_path / "busy.db"

    async def scene() -> tuple[int, int]:
        engine = make_engine(f"sqlite+aiosqlite:///{path}")
        try:
            async with engine.begin() as conn:
                await conn.execute(text("CREATE TABLE t (id int PRIMARY KEY, n int NOT NULL)"))
                await conn.execute(text("INSERT INTO t VALUES (1, 0)"))
            # Another process's writer holds the database while the first run tries to write.
            other = sqlite3.connect(path, isolation_level=None)
            other.execute("BEGIN IMMEDIATE")
            runs = 0

            async def bump() -> None:
                nonlocal runs
                runs += 1
                async with engine.begin() as conn:
                    await conn.execute(text("PRAGMA busy_timeout=0"))  # answer at once, not in 30 s
                    await conn.execute(text("SELECT n FROM t"))
                    try:
                        await conn.execute(text("UPDATE t SET n = n + 1"))
                    finally:
                        if other.in_transaction:
                            other.rollback()

            await retrying(bump)
            other.close()
            async with engine.connect() as conn:
                total = int((await conn.execute(text("SELECT n FROM t"))).scalar_one())
            return runs, total
        finally:
            await engine.dispose()

    assert asyncio.run(scene()) == (2, 1)
