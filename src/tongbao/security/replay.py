"""Nonce bookkeeping: a nonce may be used once per app while its request could still be accepted."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from tongbao.container import Container
from tongbao.errors import Unauthorized
from tongbao.security.models import RequestNonce


async def consume_nonce(c: Container, app_id: str, nonce: str) -> None:
    now = c.clock.now()
    async with c.uow() as tx:
        # A row whose time is up no longer protects anything: the timestamp window refuses it first.
        await tx.execute(
            delete(RequestNonce).where(
                RequestNonce.app_id == app_id, RequestNonce.nonce == nonce, RequestNonce.expires_at <= now
            )
        )
        tx.add(
            RequestNonce(
                app_id=app_id, nonce=nonce, expires_at=now + timedelta(seconds=c.settings.nonce_ttl_s)
            )
        )
        try:
            await tx.commit()
        except IntegrityError as exc:
            raise Unauthorized("this nonce was already used", code="replayed_request", param="nonce") from exc


async def purge_nonces(c: Container, before: datetime | None = None) -> int:
    async with c.uow() as tx:
        result = await tx.execute(
            delete(RequestNonce).where(RequestNonce.expires_at <= (before or c.clock.now()))
        )
        await tx.commit()
    return int(getattr(result, "rowcount", 0) or 0)
