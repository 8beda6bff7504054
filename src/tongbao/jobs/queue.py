"""Putting work on the durable job table and taking it off again.

``enqueue`` runs inside the caller's transaction, so a job exists exactly when its cause was
committed. Workers ``claim`` due jobs under a lease: on PostgreSQL with ``FOR UPDATE SKIP LOCKED``
so that many workers share the table without waiting on each other (SQLite has one writer at a
time anyway). A job whose lease has run out — its worker crashed or hung — is due again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import and_, false, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tongbao.container import Container
from tongbao.db.statements import insert_for, per_dialect, table_of
from tongbao.ids import new_id
from tongbao.jobs.models import Job
from tongbao.jobs.wakeup import job_due_now

QUEUED: Final = "queued"
RUNNING: Final = "running"
DONE: Final = "done"
FAILED: Final = "failed"

DEFAULT_MAX_ATTEMPTS: Final = 20
BACKOFF_BASE_S: Final = 5
BACKOFF_MAX_S: Final = 3_600


async def enqueue(
    tx: AsyncSession,
    kind: str,
    payload: dict[str, Any],
    *,
    now: datetime,
    run_at: datetime | None = None,
    dedupe_key: str | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    every_s: int | None = None,
) -> bool:
    """Adds a job in the caller's transaction; False if a job with this dedupe key already exists."""
    values: dict[str, Any] = {
        "id": new_id("job"),
        "kind": kind,
        "payload": payload,
        "status": QUEUED,
        "run_at": run_at or now,
        "attempts": 0,
        "max_attempts": max_attempts,
        "dedupe_key": dedupe_key,
        "every_s": every_s,
        "created_at": now,
        "updated_at": now,
    }
    if values["run_at"] <= now:
        await job_due_now(tx)
    # The caller's own pending rows are written first, so that their errors stay theirs. Then one
    # statement: for a job with a dedupe key the unique key decides, also against a concurrent
    # transaction inserting the same key, and a duplicate inserts nothing (no check, no savepoint).
    await tx.flush()
    if dedupe_key is None:
        await tx.execute(_INSERT, values)
        return True
    return (await tx.execute(_insert_once(tx), values)).scalar() is not None


_jobs = table_of(Job)
_INSERT = insert(_jobs)
_insert_once = per_dialect(
    lambda dialect: (
        insert_for(dialect, _jobs)
        .on_conflict_do_nothing(index_elements=[_jobs.c.dedupe_key])
        .returning(_jobs.c.id)
    )
)


async def requeue(tx: AsyncSession, dedupe_key: str, *, now: datetime) -> bool:
    """Runs a finished or given-up job again now, with its attempts counted afresh; False if there
    is no such job or it is running (it will carry on by itself)."""
    job = await tx.scalar(select(Job).where(Job.dedupe_key == dedupe_key).with_for_update())
    if job is None or job.status == RUNNING:
        return False
    job.status = QUEUED
    job.run_at = now
    job.attempts = 0
    job.last_error = None
    job.lease_owner = job.lease_expires_at = None
    job.updated_at = now
    return True


@dataclass(frozen=True)
class ClaimedJob:
    id: str
    kind: str
    payload: dict[str, Any]
    attempts: int  # including this run
    max_attempts: int
    every_s: int | None
    owner: str


async def claim(c: Container, owner: str, limit: int, lease_s: float) -> list[ClaimedJob]:
    async with c.uow() as tx:
        # Lock first, then read the clock: on SQLite the first row lock waits for the database's
        # write lock (db/engine.py), and a job another transaction made due meanwhile must count as
        # due. Locking no row takes that lock there and nothing on PostgreSQL.
        await tx.execute(select(Job.id).where(false()).with_for_update())
        now = c.clock.now()
        due = or_(
            and_(Job.status == QUEUED, Job.run_at <= now),
            and_(Job.status == RUNNING, Job.lease_expires_at <= now),
        )
        jobs = list(
            await tx.scalars(
                select(Job)
                .where(due)
                .order_by(Job.run_at, Job.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        taken = []
        for job in jobs:
            if job.status == RUNNING and job.attempts >= job.max_attempts:
                # Its worker died on every attempt: stop handing it out, leave it for an operator.
                job.status = FAILED
                job.lease_owner = job.lease_expires_at = None
                job.last_error = f"the lease ran out on all {job.attempts} attempts"
                job.updated_at = now
                continue
            taken.append(job)
            job.status = RUNNING
            job.lease_owner = owner
            job.lease_expires_at = now + timedelta(seconds=lease_s)
            job.attempts += 1
            job.updated_at = now
        await tx.commit()
    return [
        ClaimedJob(j.id, j.kind, dict(j.payload), j.attempts, j.max_attempts, j.every_s, owner) for j in taken
    ]


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(BACKOFF_BASE_S * 2 ** max(attempts - 1, 0), BACKOFF_MAX_S))


async def _settle(c: Container, job: ClaimedJob, **values: Any) -> bool:
    """Writes a run's outcome unless the lease was lost meanwhile (another worker has the job now)."""
    async with c.uow() as tx:
        result = await tx.execute(
            update(Job)
            .where(Job.id == job.id, Job.lease_owner == job.owner, Job.status == RUNNING)
            .values(lease_owner=None, lease_expires_at=None, updated_at=c.clock.now(), **values)
        )
        await tx.commit()
    return bool(getattr(result, "rowcount", 0))


async def finish(c: Container, job: ClaimedJob) -> bool:
    if job.every_s is not None:
        run_at = c.clock.now() + timedelta(seconds=job.every_s)
        return await _settle(c, job, status=QUEUED, run_at=run_at, attempts=0, last_error=None)
    return await _settle(c, job, status=DONE, last_error=None)


async def retry_at(c: Container, job: ClaimedJob, at: datetime, *, counts: bool = True) -> bool:
    """Runs the job again at ``at``. ``counts=False`` hands back the attempt (it did not really run)."""
    extra: dict[str, Any] = {} if counts else {"attempts": job.attempts - 1}
    return await _settle(c, job, status=QUEUED, run_at=at, **extra)


async def fail(c: Container, job: ClaimedJob, error: str) -> bool:
    """A run raised: back off and try again, or give up once the attempts are spent."""
    if job.every_s is not None:
        at = c.clock.now() + timedelta(seconds=job.every_s)
        return await _settle(c, job, status=QUEUED, run_at=at, attempts=0, last_error=error[:2000])
    if job.attempts >= job.max_attempts:
        return await _settle(c, job, status=FAILED, last_error=error[:2000])
    at = c.clock.now() + backoff(job.attempts)
    return await _settle(c, job, status=QUEUED, run_at=at, last_error=error[:2000])
