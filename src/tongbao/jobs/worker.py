"""The worker: runs Tongbao's background work until told to stop.

Today that is housekeeping (spent nonces and idempotency records past their time); the durable
job table plugs in here. ``tongbao worker`` runs it alone; ``tongbao serve --demo`` runs it inside
the server process.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from tongbao.bootstrap import Container
from tongbao.security import idempotency
from tongbao.security.replay import purge_nonces

log = structlog.get_logger(__name__)


class Worker:
    def __init__(self, c: Container, *, housekeeping_every_s: float = 60.0) -> None:
        self.c = c
        self.housekeeping_every_s = housekeeping_every_s

    async def housekeeping(self) -> dict[str, int]:
        purged = {
            "nonces": await purge_nonces(self.c),
            "idempotency_records": await idempotency.purge(self.c),
        }
        if any(purged.values()):
            log.info("housekeeping", **purged)
        return purged

    async def run(self, stop: asyncio.Event) -> None:
        log.info("worker started")
        while not stop.is_set():
            try:
                await self.housekeeping()
            except Exception:  # noqa: BLE001 - a failed round is logged and tried again
                log.exception("housekeeping failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.housekeeping_every_s)
        log.info("worker stopped")
