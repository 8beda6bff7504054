"""``Idempotency-Key`` for POSTs: the first answer is kept and given again to a faithful retry.

The record is inserted before the request is handled, so two concurrent requests with one key
cannot both run: the unique key decides, not a read-then-write.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from tongbao.container import Container
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


async def begin(c: Container, app_id: str, key: str, fingerprint: str) -> StoredResponse | None:
    """Claims the key (None: go ahead), or returns the first answer, or refuses."""
    now = c.clock.now()
    record = IdempotencyRecord(
        app_id=app_id,
        key=key,
        request_sha256=fingerprint,
        status_code=None,
        response_body=None,
        created_at=now,
        expires_at=now + timedelta(seconds=c.settings.idempotency_ttl_s),
    )
    async with c.uow() as tx:
        await tx.execute(
            delete(IdempotencyRecord).where(
                IdempotencyRecord.app_id == app_id,
                IdempotencyRecord.key == key,
                IdempotencyRecord.expires_at <= now,
            )
        )
        tx.add(record)
        try:
            await tx.commit()
            return None
        except IntegrityError:
            await tx.rollback()
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
        if await _take_over_abandoned(c, existing, now):
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
    async with c.uow() as tx:
        record = await tx.get(IdempotencyRecord, (app_id, key))
        if record is not None:
            record.status_code = response.status_code
            record.response_body = response.body
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
