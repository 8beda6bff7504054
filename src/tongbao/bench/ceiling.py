"""The ceiling: a captured request's exact SQL replayed straight through the database driver, with
no web framework, ORM or Tongbao in between, at the same concurrency. What the gateway reaches
against it says how much of the time is the database's and how much is ours.

Every value the captured request made fresh (the ids it generated, and the merchant's numbers, the
nonce and the idempotency key it sent) is replaced in each replay, so that every replay is a new
creation to the database; afterwards the rows the replays wrote are deleted again.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.engine import make_url
from ulid import ULID

from tongbao.db.registry import metadata

from .capture import Capture, Transaction
from .load import Round, run_round

_ID = re.compile(r"\b([a-z]{2,4})_([0-9A-HJKMNP-TV-Z]{26})\b")
_INSERT = re.compile(r"INSERT INTO (\w+) \(([^)]*)\)", re.IGNORECASE)


def fresh_values(capture: Capture, since: datetime, sent: Iterable[str]) -> list[str]:
    """The ids made during the capture (their ULID time is after ``since``) and the values sent."""
    found: set[str] = set(sent)
    for transaction in capture.transactions:
        for statement in transaction.statements:
            for value in statement.params:
                text = value.decode(errors="ignore") if isinstance(value, bytes) else value
                if not isinstance(text, str):
                    continue
                for match in _ID.finditer(text):
                    if ULID.from_str(match.group(2)).datetime >= since.replace(microsecond=0):
                        found.add(match.group(0))
    # Longest first, so that no value is replaced inside a longer one.
    return sorted(found, key=len, reverse=True)


def _replacement(value: str) -> str:
    match = _ID.fullmatch(value)
    if match:
        return f"{match.group(1)}_{ULID()}"
    return (value[:6] + secrets.token_hex(len(value)))[: max(len(value), 12)]


@dataclass
class Replayer:
    """Turns the captured transactions into a fresh copy per replay and remembers what they wrote."""

    capture: Capture
    fresh: list[str]
    written: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)

    def copy(self) -> list[Transaction]:
        mapping = {old: _replacement(old) for old in self.fresh}

        def swap(value: Any) -> Any:
            if isinstance(value, str):
                for old, new in mapping.items():
                    if old in value:
                        value = value.replace(old, new)
                return value
            if isinstance(value, bytes):
                for old, new in mapping.items():
                    value = value.replace(old.encode(), new.encode())
                return value
            return value

        copies = []
        for transaction in self.capture.transactions:
            statements = [
                type(s)(s.sql, tuple(swap(p) for p in s.params), s.locks) for s in transaction.statements
            ]
            copies.append(Transaction(statements, transaction.committed))
            for statement in statements:
                self._remember(statement.sql, statement.params)
        return copies

    def _remember(self, sql: str, params: tuple[Any, ...]) -> None:
        match = _INSERT.search(sql)
        if match is None:
            return
        table = metadata.tables.get(match.group(1))
        if table is None:
            return
        columns = [c.strip().strip('"') for c in match.group(2).split(",")]
        key = tuple(params[columns.index(c.name)] for c in table.primary_key.columns)
        self.written.setdefault(table.name, []).append(key)

    def cleanup_statements(self) -> list[tuple[str, list[tuple[Any, ...]]]]:
        """DELETEs of what the replays wrote, children before parents."""
        out = []
        for table in reversed(metadata.sorted_tables):
            keys = self.written.get(table.name)
            if keys:
                where = " AND ".join(f"{c.name} = {{}}" for c in table.primary_key.columns)
                # Names from Tongbao's own schema; the values go as parameters.
                out.append((f"DELETE FROM {table.name} WHERE {where}", keys))  # noqa: S608
        return out


async def replay_postgresql(
    database_url: str, replayer: Replayer, concurrency: int, duration_s: float
) -> Round:
    import asyncpg  # type: ignore[import-untyped]  # the driver underneath; only the ceiling uses it bare

    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    connections = [await asyncpg.connect(dsn) for _ in range(concurrency)]
    idle = asyncio.Queue[Any]()
    for conn in connections:
        idle.put_nowait(conn)

    async def one(_: int) -> None:
        conn = await idle.get()
        try:
            for transaction in replayer.copy():
                await conn.execute("BEGIN")
                for statement in transaction.statements:
                    await conn.fetch(statement.sql, *statement.params)
                await conn.execute("COMMIT" if transaction.committed else "ROLLBACK")
        finally:
            idle.put_nowait(conn)

    try:
        result = await run_round(one, concurrency, duration_s, max_count=10**9)
        for sql, keys in replayer.cleanup_statements():
            numbered = sql.format(*(f"${i + 1}" for i in range(sql.count("{}"))))
            await connections[0].executemany(numbered, keys)
        replayer.written.clear()
        return result
    finally:
        for conn in connections:
            await conn.close()


async def replay_sqlite(database_url: str, replayer: Replayer, concurrency: int, duration_s: float) -> Round:
    """sqlite3 in threads, one connection each, with the pragmas Tongbao sets (db/engine.py)."""
    path = make_url(database_url).database
    assert path, "an in-memory SQLite database cannot be shared with a server"

    def connect() -> sqlite3.Connection:
        conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        for pragma in ("journal_mode=WAL", "foreign_keys=ON", "busy_timeout=30000", "synchronous=NORMAL"):
            conn.execute(f"PRAGMA {pragma}")
        return conn

    connections = [connect() for _ in range(concurrency)]
    idle = asyncio.Queue[sqlite3.Connection]()
    for conn in connections:
        idle.put_nowait(conn)

    def run(conn: sqlite3.Connection, transactions: list[Transaction]) -> None:
        for transaction in transactions:
            writes = any(s.locks for s in transaction.statements)
            conn.execute("BEGIN IMMEDIATE" if writes else "BEGIN")
            for statement in transaction.statements:
                conn.execute(statement.sql, statement.params).fetchall()
            conn.execute("COMMIT" if transaction.committed else "ROLLBACK")

    async def one(_: int) -> None:
        conn = await idle.get()
        try:
            await asyncio.to_thread(run, conn, replayer.copy())
        finally:
            idle.put_nowait(conn)

    try:
        result = await run_round(one, concurrency, duration_s, max_count=10**9)
        for sql, keys in replayer.cleanup_statements():
            connections[0].executemany(sql.format(*("?" * sql.count("{}"))), keys)
        replayer.written.clear()
        return result
    finally:
        for conn in connections:
            conn.close()


async def replay(database_url: str, replayer: Replayer, concurrency: int, duration_s: float) -> Round:
    if database_url.startswith("postgresql"):
        return await replay_postgresql(database_url, replayer, concurrency, duration_s)
    return await replay_sqlite(database_url, replayer, concurrency, duration_s)
