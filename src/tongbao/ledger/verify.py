"""``tongbao ledger verify``: re-walks the hash chain from its first seal and names the first entry
that was altered (its hash no longer matches), deleted (a seal without its entry) or inserted (an
entry below the sealed watermark that no seal covers), and any block whose hashes do not link."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tongbao.db.statements import table_of
from tongbao.ledger.domain.chain import GENESIS, canonical, link
from tongbao.ledger.models import LedgerBlock, LedgerEntry, LedgerSeal, LedgerWatermark
from tongbao.ledger.sealing import entries_with_postings

_E = table_of(LedgerEntry)
_S = table_of(LedgerSeal)
_B = table_of(LedgerBlock)
_W = table_of(LedgerWatermark)
PAGE = 2000


@dataclass
class Verdict:
    sealed: int = 0
    head: str = GENESIS
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


async def _blocks(tx: AsyncSession, verdict: Verdict, seal_hashes: dict[int, str]) -> None:
    prev = GENESIS
    for block in (await tx.execute(select(_B).order_by(_B.c.block_no))).all():
        if block.prev_hash != prev:
            verdict.problems.append(f"block {block.block_no}: does not follow the block before it")
        if seal_hashes.get(block.last_chain_no) != block.hash:
            verdict.problems.append(f"block {block.block_no}: its hash is not its last seal's")
        prev = block.hash
    verdict.head = prev


async def verify(tx: AsyncSession) -> Verdict:
    verdict = Verdict()
    running, after, expected_no = GENESIS, 0, 1
    seal_hashes: dict[int, str] = {}
    while True:
        seals = (
            await tx.execute(select(_S).where(_S.c.chain_no > after).order_by(_S.c.chain_no).limit(PAGE))
        ).all()
        if not seals:
            break
        found = {
            e["id"]: (e, p)
            for e, p in await entries_with_postings(tx, _E.c.id.in_([s.entry_id for s in seals]), (_E.c.id,))
        }
        for seal in seals:
            if seal.chain_no != expected_no:
                verdict.problems.append(f"seal #{expected_no}: missing (the chain jumps to #{seal.chain_no})")
            expected_no = seal.chain_no + 1
            item = found.get(seal.entry_id)
            if item is None:
                verdict.problems.append(f"entry {seal.entry_id}: deleted (sealed as #{seal.chain_no})")
                running = seal.hash  # go on from the recorded chain to find what else is wrong
            else:
                running = link(running, canonical(*item))
                if running != seal.hash:
                    verdict.problems.append(
                        f"entry {seal.entry_id}: altered since it was sealed as #{seal.chain_no}"
                    )
                    running = seal.hash
            seal_hashes[seal.chain_no] = seal.hash
            verdict.sealed += 1
        after = seals[-1].chain_no
    sealed_below = int(await tx.scalar(select(_W.c.value).where(_W.c.name == "sealed")) or 0)
    unsealed = await tx.scalars(
        select(_E.c.id)
        .where(_E.c.commit_key < sealed_below, _E.c.id.not_in(select(_S.c.entry_id)))
        .order_by(_E.c.commit_key, _E.c.id)
    )
    for entry_id in unsealed:
        verdict.problems.append(f"entry {entry_id}: inserted after the chain was sealed past it")
    await _blocks(tx, verdict, seal_hashes)
    return verdict
