"""The worker: claims due jobs and runs their handlers, a bounded number at a time.

``tongbao worker`` runs it alone (any number of them, on PostgreSQL); ``tongbao serve --demo``
runs one inside the server process. Handlers are idempotent: a job may run again after a crash,
and what it does must then happen once. A handler returns ``None`` when the job is done, or
``RetryAt`` to be run again later; an exception backs off and retries.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import structlog

from tongbao.container import Container
from tongbao.jobs import queue
from tongbao.jobs.queue import ClaimedJob
from tongbao.jobs.wakeup import Wakeup

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class RetryAt:
    at: datetime
    counts: bool = True  # False: the job did not really run (e.g. its endpoint was busy)


Handler = Callable[[Container, ClaimedJob], Awaitable[RetryAt | None]]


@dataclass(frozen=True)
class Periodic:
    kind: str
    every_s: int


def _owner_name() -> str:
    # Host and pid for people reading the table; the random part keeps two workers apart.
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{secrets.token_hex(6)}"


class Worker:
    def __init__(
        self,
        c: Container,
        handlers: Mapping[str, Handler],
        periodic: Sequence[Periodic] = (),
        *,
        concurrency: int = 16,
        lease_s: float = 120.0,
        poll_s: float = 1.0,
        owner: str | None = None,
    ) -> None:
        self.c = c
        self.handlers = dict(handlers)
        self.periodic = tuple(periodic)
        self.concurrency = concurrency
        self.lease_s = lease_s
        # A handler may take most of its lease; past that another worker could start it too.
        self.run_timeout_s = lease_s * 0.75
        self.poll_s = poll_s
        self.owner = owner or _owner_name()
        self._running: set[asyncio.Task[None]] = set()

    async def ensure_periodic(self) -> None:
        now = self.c.clock.now()
        async with self.c.uow() as tx:
            for p in self.periodic:
                await queue.enqueue(
                    tx, p.kind, {}, now=now, dedupe_key=f"periodic:{p.kind}", every_s=p.every_s
                )
            await tx.commit()

    async def _execute(self, job: ClaimedJob) -> None:
        handler = self.handlers.get(job.kind)
        if handler is None:
            await queue.fail(self.c, job, f"no handler for job kind {job.kind!r}")
            return
        try:
            outcome = await asyncio.wait_for(handler(self.c, job), timeout=self.run_timeout_s)
        except Exception as exc:  # noqa: BLE001 - any failure is recorded on the job and retried
            log.warning("job failed", job_id=job.id, kind=job.kind, attempt=job.attempts, error=repr(exc))
            await queue.fail(self.c, job, repr(exc))
            return
        if outcome is None:
            await queue.finish(self.c, job)
        else:
            await queue.retry_at(self.c, job, outcome.at, counts=outcome.counts)

    async def _claim_and_start(self) -> int:
        free = self.concurrency - len(self._running)
        if free <= 0:
            return 0
        jobs = await queue.claim(self.c, self.owner, free, self.lease_s)
        for job in jobs:
            task = asyncio.create_task(self._execute(job), name=f"job-{job.id}")
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        return len(jobs)

    async def run_due(self) -> int:
        """Runs every job that is due now (and what they make due now), then returns how many ran."""
        ran = 0
        while True:
            started = await self._claim_and_start()
            ran += started
            if not self._running:
                if started == 0:
                    return ran
                continue
            await asyncio.wait(set(self._running), return_when=asyncio.FIRST_COMPLETED)

    async def run(self, stop: asyncio.Event) -> None:
        log.info("worker started", owner=self.owner, concurrency=self.concurrency)
        await self.ensure_periodic()
        wakeup = Wakeup()
        await wakeup.start(self.c.engine, listen=self.c.settings.job_listen)
        try:
            await self._loop(stop, wakeup)
        finally:
            await wakeup.stop()
        if self._running:
            await asyncio.wait(set(self._running), timeout=self.run_timeout_s)
        for task in list(self._running):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        log.info("worker stopped", owner=self.owner)

    async def _loop(self, stop: asyncio.Event, wakeup: Wakeup) -> None:
        while not stop.is_set():
            wakeup.event.clear()  # before the claim: a job committed after it wakes the wait below
            try:
                started = await self._claim_and_start()
            except Exception:  # noqa: BLE001 - the database may be briefly away; try again
                log.exception("claiming jobs failed")
                started = 0
            if started:
                continue
            waiters: set[asyncio.Future[object]] = {
                asyncio.ensure_future(stop.wait()),
                asyncio.ensure_future(wakeup.event.wait()),
            }
            waiters.update(self._running)  # type: ignore[arg-type]
            _, pending = await asyncio.wait(waiters, timeout=self.poll_s, return_when=asyncio.FIRST_COMPLETED)
            for waiter in pending:
                if waiter not in self._running:
                    waiter.cancel()
