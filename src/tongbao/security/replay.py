"""Nonce bookkeeping: a nonce may be used once per app while its request could still be accepted."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete

from tongbao.container import Container
from tongbao.db.statements import Executor, core_transaction, insert_for, per_dialect, table_of
from tongbao.errors import Unauthorized
from tongbao.security.models import RequestNonce


def _take(dialect: str) -> Any:
    # One statement: the key decides. A row whose time is up no longer protects anything (the
    # timestamp window refuses it first), so it is taken over; a live one answers nothing.
    table = table_of(RequestNonce)
    stmt = insert_for(dialect, table)
    return stmt.on_conflict_do_update(
        index_elements=[table.c.app_id, table.c.nonce],
        set_={"expires_at": stmt.excluded.expires_at},
        where=table.c.expires_at <= bindparam("now"),
    ).returning(table.c.app_id)


_take_nonce = per_dialect(_take)


def replayed() -> Unauthorized:
    return Unauthorized("this nonce was already used", code="replayed_request", param="nonce")


async def take_nonce(c: Container, tx: Executor, app_id: str, nonce: str) -> bool:
    """Spends the nonce in the caller's transaction; False if it was spent already."""
    now = c.clock.now()
    expires_at = now + timedelta(seconds=c.settings.nonce_ttl_s)
    params = {"app_id": app_id, "nonce": nonce, "expires_at": expires_at, "now": now}
    return (await tx.execute(_take_nonce(tx), params)).scalar() is not None


async def consume_nonce(c: Container, app_id: str, nonce: str) -> None:
    async with core_transaction(c.engine) as tx:
        taken = await take_nonce(c, tx, app_id, nonce)
        await tx.commit()
    if not taken:
        raise replayed()


async def purge_nonces(c: Container, before: datetime | None = None) -> int:
    async with c.uow() as tx:
        result = await tx.execute(
            delete(RequestNonce).where(RequestNonce.expires_at <= (before or c.clock.now()))
        )
        await tx.commit()
    return int(getattr(result, "rowcount", 0) or 0)
