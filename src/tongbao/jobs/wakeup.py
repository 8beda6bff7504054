"""Waking idle workers when a job falls due now, instead of leaving it for their next poll.

A transaction that adds a job due now marks itself. When it commits, the workers of this process
wake at once; on PostgreSQL the transaction also sends a NOTIFY, which the server delivers only if
it commits, to every worker that LISTENs. A lost wake-up costs no more than the poll interval,
which stays as the safety net.
"""

from __future__ import annotations

import asyncio
from typing import Any, Final

import structlog
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.orm import Session

CHANNEL: Final = "tongbao_jobs"
_MARK: Final = "tongbao_wakes_workers"
log = structlog.get_logger(__name__)

# The idle workers of this process, each with the loop it waits on.
_listeners: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()


async def job_due_now(tx: AsyncSession) -> None:
    """Called in the transaction that adds a job due now (once per transaction is enough)."""
    if tx.info.get(_MARK):
        return
    tx.info[_MARK] = True
    if tx.get_bind().dialect.name == "postgresql":
        await tx.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop(_MARK, False):
        for loop, waiting in list(_listeners):
            loop.call_soon_threadsafe(waiting.set)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_MARK, None)


class Wakeup:
    """What an idle worker waits on besides its poll interval."""

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self._entry: tuple[asyncio.AbstractEventLoop, asyncio.Event] | None = None
        self._conn: AsyncConnection | None = None
        self._driver: Any = None

    async def start(self, engine: AsyncEngine, *, listen: bool) -> None:
        self._entry = (asyncio.get_running_loop(), self.event)
        _listeners.add(self._entry)
        if not listen or engine.dialect.name != "postgresql":
            return
        try:
            self._conn = await engine.connect()
            raw = await self._conn.get_raw_connection()
            self._driver = raw.driver_connection
            await self._driver.add_listener(CHANNEL, self._heard)
        except Exception:  # noqa: BLE001 - polling still works; say so once
            log.warning("LISTEN for new jobs failed: polling only", exc_info=True)
            await self._close_connection()

    def _heard(self, *_: object) -> None:
        self.event.set()

    async def stop(self) -> None:
        if self._entry is not None:
            _listeners.discard(self._entry)
            self._entry = None
        if self._driver is not None:
            try:
                await self._driver.remove_listener(CHANNEL, self._heard)
            except Exception:  # noqa: BLE001 - the connection may be gone already
                log.debug("removing the job listener failed", exc_info=True)
            self._driver = None
        await self._close_connection()

    async def _close_connection(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None
