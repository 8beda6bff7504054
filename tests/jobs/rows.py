"""Putting jobs on the table and reading them back, for the queue and worker tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from tongbao.container import Container
from tongbao.jobs import queue
from tongbao.jobs.models import Job


async def add(c: Container, kind: str, payload: dict[str, Any] | None = None, **options: Any) -> bool:
    async with c.uow() as tx:
        added = await queue.enqueue(tx, kind, payload or {}, now=c.clock.now(), **options)
        await tx.commit()
    return added


async def rows(c: Container) -> list[Job]:
    async with c.uow() as tx:
        return list(await tx.scalars(select(Job).order_by(Job.created_at, Job.id)))


async def only(c: Container) -> Job:
    [job] = await rows(c)
    return job


def assert_close(actual: datetime | None, lower: datetime, upper: datetime) -> None:
    """``actual`` lies between two clock readings taken around the call that wrote it."""
    assert actual is not None
    assert lower <= actual <= upper, (lower, actual, upper)
