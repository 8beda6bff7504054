"""Statements of the hot paths. ``INSERT … ON CONFLICT``, which both databases speak with the same
words through their own SQLAlchemy dialect: one statement where a unique key decides, with no read
before it.

Hot statements are built once per dialect (``per_dialect``) against the table, not the ORM entity,
and run with their values as parameters: SQLAlchemy then computes their cache key once, and skips
the ORM's bulk-statement machinery, which cost more than the database's own work.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import Table, inspect
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

S = TypeVar("S")


# A session, or a bare connection for a few statements that publish no domain events: it skips the
# session's own bookkeeping (see ``core_transaction``).
Executor = AsyncSession | AsyncConnection


def dialect_of(tx: Executor) -> str:
    return tx.dialect.name if isinstance(tx, AsyncConnection) else tx.get_bind().dialect.name


@asynccontextmanager
async def core_transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A transaction on a bare connection, for a few Core statements that publish nothing: the
    caller commits; anything else rolls back. The engine's own events (SQLite's write lock) apply."""
    async with engine.connect() as conn:
        yield conn


def insert_for(tx_or_dialect: Executor | str, table: Any) -> Any:
    """An INSERT into ``table`` that has ``on_conflict_do_nothing`` / ``on_conflict_do_update``."""
    dialect = tx_or_dialect if isinstance(tx_or_dialect, str) else dialect_of(tx_or_dialect)
    return postgresql_insert(table) if dialect == "postgresql" else sqlite_insert(table)


def per_dialect(build: Callable[[str], S]) -> Callable[[Executor], S]:
    """``build(dialect_name)`` once per dialect; the result is looked up by the session's dialect."""
    cached = functools.cache(build)

    def statement(tx: Executor) -> S:
        return cached(dialect_of(tx))

    return statement


def table_of(model: Any) -> Table:
    """The Core table behind an ORM model (``__table__`` is typed as any FROM clause)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


def column_values(row: Any) -> dict[str, Any]:
    """A new model object's values by column, for a Core INSERT of it (no unit of work). Columns
    left unset are NULL: set every column with a default on the object itself."""
    mapper = inspect(type(row))
    return {prop.columns[0].key: getattr(row, prop.key) for prop in mapper.column_attrs}
