"""Row locks on a payment's money, taken in one order everywhere.

The order is: the payment, then its channel accounts (by id), then its attempt, then its refunds,
then its exception cases. Every writer of a payment's money goes down this list and never back up,
so two writers meet at the first row they both need and the second waits there, instead of each
holding a row the other wants (a deadlock, which PostgreSQL breaks by failing one of them). Taking a
lock out of order is a programming error and fails loudly at once, whether or not anyone collides.

Each lock reloads its row (``populate_existing``): what the caller read before the lock may be
stale, what it reads under the lock is not. On PostgreSQL the lock is ``SELECT ... FOR UPDATE``. On
SQLite, which locks the whole database rather than rows, the same statement takes the database's
write lock at this point (``db/engine.py``): other writers wait for this transaction to end.

Each feature locks its own rows through ``lock_row`` with its rank (``payments.store``,
``refunds.store``, ``cases.service``, ``payments.routing``), so that this module knows no feature.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum
from typing import Final, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from tongbao.db.base import Base

M = TypeVar("M", bound=Base)
_HELD: Final = "tongbao_lock_rank"  # in the session's info: (its transaction, the last rank taken)


class Rank(IntEnum):
    PAYMENT = 1
    CHANNEL_ACCOUNT = 2
    ATTEMPT = 3
    REFUND = 4
    CASE = 5


async def lock_row(tx: AsyncSession, rank: Rank, model: type[M], row_id: str) -> M | None:
    """Locks one row of ``model`` (the feature's own table) at its place in the order."""
    return await _lock(tx, rank, model, row_id)


async def lock_rows(tx: AsyncSession, rank: Rank, model: type[M], row_ids: Iterable[str]) -> None:
    """Several rows of one kind at once, in id order, so that two writers choosing among the same
    rows take them one after the other."""
    for row_id in sorted(set(row_ids)):
        await _lock(tx, rank, model, row_id)


async def _lock(tx: AsyncSession, rank: Rank, model: type[M], row_id: str) -> M | None:
    await tx.connection()  # begun, so that the order is checked within this transaction
    _check_order(tx, rank)
    return await tx.get(model, row_id, with_for_update=True, populate_existing=True)


def _check_order(tx: AsyncSession, rank: Rank) -> None:
    # Kept per transaction: a session that commits and goes on starts the list afresh.
    transaction = tx.sync_session.get_transaction()
    held_in, held = tx.info.get(_HELD, (None, 0))
    if held_in is transaction and rank < held:
        raise AssertionError(f"{rank.name.lower()} locked after {Rank(held).name.lower()}: see db/locks.py")
    tx.info[_HELD] = (transaction, max(rank, held if held_in is transaction else 0))
