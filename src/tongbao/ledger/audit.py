"""The ledger's full audit after a run: balances folded, the chain sealed, then every invariant
(``check``) and the chain (``verify``); the problems of both, named."""

from __future__ import annotations

from tongbao.container import Container
from tongbao.ledger.check import check
from tongbao.ledger.jobs import fold_balances, seal_chain
from tongbao.ledger.verify import verify


async def audit(c: Container) -> list[str]:
    await fold_balances(c)
    await seal_chain(c)
    async with c.uow() as tx:
        report = await check(tx)
        verdict = await verify(tx)
    return [*(f"check: {p}" for p in report.problems), *(f"verify: {p}" for p in verdict.problems)]
