"""What each kind of job carries: one frozen dataclass per kind, written and read through the same
type. ``schedule`` writes one in the caller's transaction; a handler reads its own with ``of``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any, ClassVar, Self

from sqlalchemy.ext.asyncio import AsyncSession

from tongbao.jobs import queue
from tongbao.jobs.queue import ClaimedJob


@dataclass(frozen=True)
class JobPayload:
    KIND: ClassVar[str]

    def dedupe_key(self) -> str | None:
        """At most one live job per key; None: any number."""
        return None

    @classmethod
    def of(cls, job: ClaimedJob) -> Self:
        if job.kind != cls.KIND:
            raise ValueError(f"a {job.kind} job is not a {cls.KIND} job")
        names = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in job.payload.items() if key in names})


async def schedule(
    tx: AsyncSession,
    payload: JobPayload,
    *,
    now: datetime,
    run_at: datetime | None = None,
    max_attempts: int = queue.DEFAULT_MAX_ATTEMPTS,
    every_s: int | None = None,
) -> bool:
    """Adds the job in the caller's transaction; False if its dedupe key has a job already."""
    body: dict[str, Any] = asdict(payload)
    return await queue.enqueue(
        tx,
        payload.KIND,
        body,
        now=now,
        run_at=run_at,
        dedupe_key=payload.dedupe_key(),
        max_attempts=max_attempts,
        every_s=every_s,
    )
