"""``INSERT … ON CONFLICT``, which both databases speak with the same words through their own
SQLAlchemy dialect: one statement where a unique key decides, with no read before it."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession


def insert_for(tx: AsyncSession, table: Any) -> Any:
    """An INSERT into ``table`` (a model) that has ``on_conflict_do_nothing`` / ``_do_update``."""
    if tx.get_bind().dialect.name == "postgresql":
        return postgresql_insert(table)
    return sqlite_insert(table)
