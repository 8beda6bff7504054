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

from tongbao.container import Container
from tongbao.db.upsert import insert_for
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
    fields = {
        "request_sha256": fingerprint,
        "status_code": None,
        "response_body": None,
        "created_at": now,
        "expires_at": now + timedelta(seconds=c.settings.idempotency_ttl_s),
    }
    async with c.uow() as tx:
        # One statement: a record whose time is up is taken over, a live one wins.
        claimed = await tx.scalar(
            insert_for(tx, IdempotencyRecord)
            .values(app_id=app_id, key=key, **fields)
            .on_conflict_do_update(
                index_elements=[IdempotencyRecord.app_id, IdempotencyRecord.key],
                set_=fields,
                where=IdempotencyRecord.expires_at <= now,
            )
            .returning(IdempotencyRecord.app_id)
        )
        await tx.commit()
    if claimed is not None:
        return None
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
        raise Conflict(
            "a request with this Idempotency-Key is in progress", code="idempotency_request_in_progress"
        )
    return StoredResponse(existing.status_code, existing.response_body)


async def finish(c: Container, app_id: str, key: str, response: StoredResponse) -> None:
    async with c.uow() as tx:
        await tx.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.app_id == app_id, IdempotencyRecord.key == key)
            .values(status_code=response.status_code, response_body=response.body)
        )
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
