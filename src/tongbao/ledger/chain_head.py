"""The hash chain's head as operators publish it: the newest block, and what waits to be sealed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from tongbao.container import Container
from tongbao.ledger.domain.chain import GENESIS
from tongbao.ledger.models import LedgerEntry, LedgerSeal
from tongbao.ledger.sealing import head_block


async def chain_head(c: Container) -> dict[str, Any]:
    async with c.uow() as tx:
        head = await head_block(tx)
        total = int(await tx.scalar(select(func.count()).select_from(LedgerEntry)) or 0)
        sealed = int(await tx.scalar(select(func.count()).select_from(LedgerSeal)) or 0)
    return {
        "block_no": head.block_no if head is not None else None,
        "hash": head.hash if head is not None else GENESIS,
        "entries_sealed": head.last_chain_no if head is not None else 0,
        "sealed_at": head.sealed_at if head is not None else None,
        "unsealed_entries": max(0, total - sealed),
    }
