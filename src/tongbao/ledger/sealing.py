"""The chain sealer: a background job that seals the entries committed since its last run into the
hash chain, in commit-key order, as one block. Writers never touch the chain, so they never wait
for each other on it; only keys below the watermark are sealed, so an entry that commits late is
sealed on a later run rather than skipped."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tongbao.db.statements import Executor, table_of
from tongbao.ledger.commit_keys import watermark
from tongbao.ledger.domain.chain import GENESIS, canonical, link
from tongbao.ledger.folding import move_mark, take_mark
from tongbao.ledger.models import LedgerBlock, LedgerEntry, LedgerPosting, LedgerSeal

_ENTRIES = table_of(LedgerEntry)
_POSTINGS = table_of(LedgerPosting)
_SEALS = table_of(LedgerSeal)
_BLOCKS = table_of(LedgerBlock)


@dataclass(frozen=True)
class Sealed:
    block_no: int | None
    entries: int
    head: str


async def head_block(tx: Executor) -> Any:
    """The newest block (its hash is the chain's head), or None before the first seal."""
    return (await tx.execute(select(_BLOCKS).order_by(_BLOCKS.c.block_no.desc()).limit(1))).first()


async def entries_with_postings(
    tx: Executor, where: Any, order: Any
) -> list[tuple[Any, list[tuple[str, int]]]]:
    """Entries matching ``where`` in ``order``, each with its postings."""
    entries = (await tx.execute(select(_ENTRIES).where(where).order_by(*order))).mappings().all()
    postings: dict[str, list[tuple[str, int]]] = defaultdict(list)
    ids = [e["id"] for e in entries]
    for chunk in range(0, len(ids), 500):
        rows = await tx.execute(
            select(_POSTINGS.c.entry_id, _POSTINGS.c.account_id, _POSTINGS.c.amount).where(
                _POSTINGS.c.entry_id.in_(ids[chunk : chunk + 500])
            )
        )
        for entry_id, account_id, amount in rows:
            postings[entry_id].append((account_id, int(amount)))
    return [(e, postings[e["id"]]) for e in entries]


async def seal(tx: AsyncSession, now: datetime) -> Sealed:
    """One block, in the caller's transaction (the caller commits)."""
    lo = await take_mark(tx, "sealed")
    hi = await watermark(tx)
    head = await head_block(tx)
    prev = head.hash if head is not None else GENESIS
    if hi <= lo:
        return Sealed(None, 0, prev)
    batch = await entries_with_postings(
        tx,
        (_ENTRIES.c.commit_key >= lo) & (_ENTRIES.c.commit_key < hi),
        (_ENTRIES.c.commit_key, _ENTRIES.c.id),
    )
    if not batch:
        await move_mark(tx, "sealed", hi)
        return Sealed(None, 0, prev)
    block_no = (head.block_no + 1) if head is not None else 1
    first = (head.last_chain_no + 1) if head is not None else 1
    seals, running = [], prev
    for offset, (entry, postings) in enumerate(batch):
        running = link(running, canonical(entry, postings))
        seals.append(
            {"chain_no": first + offset, "entry_id": entry["id"], "hash": running, "block_no": block_no}
        )
    await tx.execute(_SEALS.insert(), seals)
    await tx.execute(
        _BLOCKS.insert(),
        {
            "block_no": block_no,
            "prev_hash": prev,
            "hash": running,
            "first_chain_no": first,
            "last_chain_no": first + len(seals) - 1,
            "entries": len(seals),
            "through_key": hi,
            "sealed_at": now,
        },
    )
    await move_mark(tx, "sealed", hi)
    return Sealed(block_no, len(seals), running)
