"""``Idempotency-Key`` for POSTs: the first answer is kept and given again to a faithful retry.

The record is inserted before the request is handled, so two concurrent requests with one key
cannot both run: the unique key decides, not a read-then-write.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, select, update

from tongbao.container import Container
from tongbao.db.statements import Executor, core_transaction, insert_for, per_dialect, table_of
from tongbao.errors import Conflict, InvalidRequest
from tongbao.security.models import IdempotencyRecord

_KEY = re.compile(r"[\x21-\x7e]{1,255}")


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: bytes


def request_fingerprint(method: str, path_and_query: str, body: bytes) -> str:
    return hashlib.sha256(f"{method}\n{path_and_query}\n".encode() + body).hexdigest()


def check_key(key: str) -> str:
    if not _KEY.fullmatch(key):
        raise InvalidRequest(
            "Idempotency-Key is 1-255 visible ASCII characters",
            code="idempotency_key_invalid",
            param="Idempotency-Key",
        )
    return key


def _build_claim(dialect: str) -> Any:
    # One statement: a record whose time is up is taken over, a live one wins.
    table = table_of(IdempotencyRecord)
    stmt = insert_for(dialect, table)
    taken_over = ("request_sha256", "status_code", "response_body", "created_at", "expires_at")
    return stmt.on_conflict_do_update(
        index_elements=[table.c.app_id, table.c.key],
        set_={name: stmt.excluded[name] for name in taken_over},
        where=table.c.expires_at <= bindparam("now"),
    ).returning(table.c.app_id)


_claim = per_dialect(_build_claim)
_record = table_of(IdempotencyRecord)
_FINISH = (
    update(_record)
    .where(_record.c.app_id == bindparam("b_app_id"), _record.c.key == bindparam("b_key"))
    .values(status_code=bindparam("status_code"), response_body=bindparam("response_body"))
)


@dataclass(frozen=True)
class Claim:
    """The key a POST came with and the fingerprint of what it asked."""

    key: str
    fingerprint: str


async def claim(c: Container, tx: Executor, app_id: str, wanted: Claim) -> bool:
    """Claims the key in the caller's transaction; False if a live record holds it."""
    now = c.clock.now()
    fields = {
        "request_sha256": wanted.fingerprint,
        "status_code": None,
        "response_body": None,
        "created_at": now,
        "expires_at": now + timedelta(seconds=c.settings.idempotency_ttl_s),
    }
    params = {"app_id": app_id, "key": wanted.key, "now": now, **fields}
    return (await tx.execute(_claim(tx), params)).scalar() is not None


async def earlier_answer(c: Container, app_id: str, key: str, fingerprint: str) -> StoredResponse | None:
    """The first answer under a key that was held already, or the reason there is none to give;
    None if the first request was abandoned and this one takes the key over (go ahead)."""
    async with c.uow() as tx:
        existing = await tx.scalar(
            select(IdempotencyRecord).where(IdempotencyRecord.app_id == app_id, IdempotencyRecord.key == key)
        )
    if existing is None:  # the holder abandoned it between our two looks; the client may retry
        raise Conflict(
            "a request with this Idempotency-Key is in progress", code="idempotency_request_in_progress"
        )
    if existing.request_sha256 != fingerprint:
        raise Conflict(
            "this Idempotency-Key was used with a different request",
            code="idempotency_key_reused",
            param="Idempotency-Key",
        )
    if existing.status_code is None or existing.response_body is None:
        if await _take_over_abandoned(c, existing, c.clock.now()):
            return None
        raise Conflict(
            "a request with this Idempotency-Key is in progress", code="idempotency_request_in_progress"
        )
    return StoredResponse(existing.status_code, existing.response_body)


async def _take_over_abandoned(c: Container, existing: IdempotencyRecord, now: datetime) -> bool:
    """A first request that never answered (its process was killed before it could finish or free
    the key) would hold the key for its whole TTL, and every retry would be told "in progress".
    Past ``idempotency_in_progress_s`` the retry claims it instead; the conditional UPDATE lets one
    retry win when several arrive at once. What the first request may have done is found again by
    the retry itself (the out_trade_no / out_refund_no guards), so running it is safe."""
    stale_before = now - timedelta(seconds=c.settings.idempotency_in_progress_s)
    if existing.created_at > stale_before:
        return False
    async with c.uow() as tx:
        claimed = await tx.execute(
            update(IdempotencyRecord)
            .where(
                IdempotencyRecord.app_id == existing.app_id,
                IdempotencyRecord.key == existing.key,
                IdempotencyRecord.status_code.is_(None),
                IdempotencyRecord.created_at == existing.created_at,
            )
            .values(created_at=now, expires_at=now + timedelta(seconds=c.settings.idempotency_ttl_s))
        )
        await tx.commit()
    return int(getattr(claimed, "rowcount", 0) or 0) == 1


async def finish(c: Container, app_id: str, key: str, response: StoredResponse) -> None:
    params = {
        "b_app_id": app_id,
        "b_key": key,
        "status_code": response.status_code,
        "response_body": response.body,
    }
    async with core_transaction(c.engine) as tx:
        await tx.execute(_FINISH, params)
        await tx.commit()


async def abandon(c: Container, app_id: str, key: str) -> None:
    """After a server error the key is freed, so the client's retry runs for real."""
    async with c.uow() as tx:
        await tx.execute(
            delete(IdempotencyRecord).where(IdempotencyRecord.app_id == app_id, IdempotencyRecord.key == key)
        )
        await tx.commit()


async def purge(c: Container, before: datetime | None = None) -> int:
    async with c.uow() as tx:
        result = await tx.execute(
            delete(IdempotencyRecord).where(IdempotencyRecord.expires_at <= (before or c.clock.now()))
        )
        await tx.commit()
    return int(getattr(result, "rowcount", 0) or 0)
