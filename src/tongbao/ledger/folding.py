"""The balance folder: adds the postings committed since its last run to the accounts' folded sums,
in one batch, so that a balance is read in O(1) (folded sum + the short tail since) while writers
only ever append.

Only keys below the watermark are folded: a transaction still running may commit an entry with a
smaller key than one already visible, and it is folded on a later run, never skipped.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from tongbao.db.statements import Executor, insert_for, table_of
from tongbao.ledger.commit_keys import watermark
from tongbao.ledger.models import LedgerWatermark

_MARKS = table_of(LedgerWatermark)
_TAKE = text("UPDATE ledger_watermarks SET value = value WHERE name = :name")
_MARK = text("SELECT value FROM ledger_watermarks WHERE name = :name")
_MOVE = text("UPDATE ledger_watermarks SET value = :value WHERE name = :name")
_SINCE = text(
    "SELECT account_id, SUM(amount) FROM ledger_postings"
    " WHERE commit_key >= :lo AND commit_key < :hi GROUP BY account_id ORDER BY account_id"
)
_ADD = text("UPDATE ledger_balances SET folded = folded + :amount WHERE account_id = :account_id").bindparams(
    bindparam("amount"), bindparam("account_id")
)


async def take_mark(tx: Executor, name: str) -> int:
    """Locks the named watermark for this transaction (one folder or sealer at a time, on either
    database) and returns it; created at 0 the first time."""
    if (await tx.execute(_TAKE, {"name": name})).rowcount == 0:  # type: ignore[attr-defined]
        await tx.execute(
            insert_for(tx, _MARKS).on_conflict_do_nothing(index_elements=["name"]), {"name": name, "value": 0}
        )
        await tx.execute(_TAKE, {"name": name})
    return int(await tx.scalar(_MARK, {"name": name}) or 0)


async def move_mark(tx: Executor, name: str, value: int) -> None:
    await tx.execute(_MOVE, {"name": name, "value": value})


@dataclass(frozen=True)
class Folded:
    accounts: int
    through_key: int


async def fold(tx: AsyncSession) -> Folded:
    """One batch, in the caller's transaction (the caller commits)."""
    lo = await take_mark(tx, "folded")
    hi = await watermark(tx)
    if hi <= lo:
        return Folded(0, lo)
    sums = (await tx.execute(_SINCE, {"lo": lo, "hi": hi})).all()
    if sums:
        await tx.execute(_ADD, [{"account_id": a, "amount": int(s)} for a, s in sums])
    await move_mark(tx, "folded", hi)
    return Folded(len(sums), hi)
