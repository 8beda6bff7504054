"""Commit keys and the watermark below which every key is done, in each database's own terms.

PostgreSQL: an entry's key is its transaction's id (``pg_current_xact_id``), and every transaction
with an id below the oldest one still running (``pg_snapshot_xmin``) has finished. SQLite lets one
writer in at a time, so an entry's key is one more than the largest committed key, taken under the
write lock, and every key up to the largest committed one is done.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from tongbao.db.statements import Executor, dialect_of, per_dialect


def entry_key_sql(dialect: str) -> str:
    if dialect == "postgresql":
        return "CAST(CAST(pg_current_xact_id() AS TEXT) AS BIGINT)"
    return "(SELECT COALESCE(MAX(commit_key), 0) + 1 FROM ledger_entries)"


@per_dialect
def _watermark(dialect: str) -> Any:
    if dialect == "postgresql":
        return text("SELECT CAST(CAST(pg_snapshot_xmin(pg_current_snapshot()) AS TEXT) AS BIGINT)")
    return text("SELECT COALESCE(MAX(commit_key), 0) + 1 FROM ledger_entries")


async def watermark(tx: Executor) -> int:
    """Every commit key below this belongs to a transaction that has finished."""
    return int(await tx.scalar(_watermark(tx)) or 0)


def is_postgresql(tx: Executor) -> bool:
    return dialect_of(tx) == "postgresql"
