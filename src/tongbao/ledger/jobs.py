"""The ledger's background work: folding balances and sealing the chain, each a periodic job."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import ClassVar, Final

import structlog
from sqlalchemy import select

from tongbao.container import Container
from tongbao.jobs.payloads import JobPayload
from tongbao.jobs.queue import ClaimedJob
from tongbao.ledger import internal_recon
from tongbao.ledger.folding import fold
from tongbao.ledger.models import InternalReconRun
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


# The day's internal reconciliation runs once the day is over in Beijing, with a margin for the
# last callbacks and refunds of the day to settle.
RECON_AFTER_HOUR: Final = 2


@dataclass(frozen=True)
class DailyInternalRecon(JobPayload):
    """Periodic (hourly): yesterday's internal reconciliation, once, after 02:00 Beijing time."""

    KIND: ClassVar[str] = "ledger.internal_recon"


async def daily_internal_recon(c: Container, job: ClaimedJob | None = None) -> None:
    beijing = c.clock.now().astimezone(internal_recon.BEIJING)
    if beijing.hour < RECON_AFTER_HOUR:
        return
    day = (beijing - timedelta(days=1)).date()
    async with c.uow() as tx:
        done = await tx.scalar(
            select(InternalReconRun.id).where(InternalReconRun.business_date == day.isoformat())
        )
    if done is not None:
        return
    record, found = await internal_recon.run(c, day)
    log_call = log.warning if found else log.info
    log_call("internal recon", business_date=day.isoformat(), run_id=record.id, differences=len(found))
