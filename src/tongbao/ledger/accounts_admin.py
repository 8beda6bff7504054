"""Operators' view of the chart of accounts: listed by id with balances, frozen and unfrozen."""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy import select

from tongbao.container import Container
from tongbao.errors import NotFound
from tongbao.ledger.models import LedgerAccount
from tongbao.ledger.reading import account_view, balances_of

log = structlog.get_logger(__name__)


async def list_accounts(
    c: Container, limit: int, starting_after: str | None, filters: dict[str, str | None]
) -> dict[str, Any]:
    stmt = select(LedgerAccount).order_by(LedgerAccount.id).limit(limit + 1)
    if starting_after is not None:
        stmt = stmt.where(LedgerAccount.id > starting_after)
    for name, wanted in filters.items():
        if wanted is not None:
            stmt = stmt.where(getattr(LedgerAccount, name) == wanted)
    async with c.uow() as tx:
        rows = list(await tx.scalars(stmt))
        kept = rows[:limit]
        balances = await balances_of(tx, [a.id for a in kept])
    return {"data": [account_view(a, balances[a.id]) for a in kept], "has_more": len(rows) > limit}


async def _set_frozen(c: Container, account_id: str, reason: str | None) -> dict[str, Any]:
    async with c.uow() as tx:
        account = await tx.get(LedgerAccount, account_id, with_for_update=True)
        if account is None:
            raise NotFound("no such ledger account", code="account_not_found", param="account_id")
        account.frozen = reason is not None
        account.frozen_reason = reason
        account.updated_at = c.clock.now()
        balance = (await balances_of(tx, [account_id]))[account_id]
        await tx.commit()
    return account_view(account, balance)


async def freeze_account(c: Container, account_id: str, reason: str, operator: str) -> dict[str, Any]:
    log.warning("ledger account frozen", account_id=account_id, operator=operator, reason=reason)
    return await _set_frozen(c, account_id, f"{reason} (by {operator})"[:200])


async def unfreeze_account(c: Container, account_id: str, operator: str) -> dict[str, Any]:
    log.warning("ledger account unfrozen", account_id=account_id, operator=operator)
    return await _set_frozen(c, account_id, None)
