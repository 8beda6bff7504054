"""The ledger's background work: folding balances and sealing the chain, each a periodic job."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import structlog

from tongbao.container import Container
from tongbao.jobs.payloads import JobPayload
from tongbao.jobs.queue import ClaimedJob
from tongbao.ledger.folding import fold
from tongbao.ledger.sealing import seal

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class FoldBalances(JobPayload):
    """Periodic: the postings committed since the last fold, added to their accounts' balances."""

    KIND: ClassVar[str] = "ledger.fold"


@dataclass(frozen=True)
class SealChain(JobPayload):
    """Periodic: the entries committed since the last seal, sealed into the hash chain as a block."""

    KIND: ClassVar[str] = "ledger.seal"


async def fold_balances(c: Container, job: ClaimedJob | None = None) -> None:
    async with c.uow() as tx:
        folded = await fold(tx)
        await tx.commit()
    if folded.accounts:
        log.debug("balances folded", accounts=folded.accounts, through_key=folded.through_key)


async def seal_chain(c: Container, job: ClaimedJob | None = None) -> None:
    async with c.uow() as tx:
        sealed = await seal(tx, c.clock.now())
        await tx.commit()
    if sealed.entries:
        log.info("ledger sealed", block=sealed.block_no, entries=sealed.entries, head=sealed.head)
