"""Running a transaction again when the database could not let it through as it stood.

PostgreSQL fails a deadlock victim and a transaction it could not serialise; SQLite answers
SQLITE_BUSY to a writer that found the database locked for longer than its busy timeout, or whose
snapshot could not become a writer. Each of these ends the whole transaction, so running the same
unit of work again is safe, and it is what the databases ask clients to do. Anything else is raised
as it came.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import Final, TypeVar

import structlog
from sqlalchemy.exc import DBAPIError

T = TypeVar("T")
RETRYABLE: Final = frozenset({"40P01", "40001"})  # deadlock_detected, serialization_failure
SQLITE_BUSY: Final = 5  # the primary code; extended ones (BUSY_SNAPSHOT, BUSY_TIMEOUT) share its low byte
ATTEMPTS: Final = 4
log = structlog.get_logger(__name__)


def _retryable(exc: DBAPIError) -> bool:
    if getattr(exc.orig, "sqlstate", None) in RETRYABLE:
        return True
    sqlite_code = getattr(exc.orig, "sqlite_errorcode", None)
    return isinstance(sqlite_code, int) and sqlite_code & 0xFF == SQLITE_BUSY


async def retrying(work: Callable[[], Awaitable[T]]) -> T:
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return await work()
        except DBAPIError as exc:
            if attempt == ATTEMPTS or not _retryable(exc):
                raise
            log.warning(
                "transaction retried",
                attempt=attempt,
                sqlstate=getattr(exc.orig, "sqlstate", None),
                sqlite_error=getattr(exc.orig, "sqlite_errorname", None),
            )
            # A little jitter so that the transactions that collided do not meet again at once.
            await asyncio.sleep(random.uniform(0.005, 0.05) * attempt)  # noqa: S311 - not security
    raise AssertionError("unreachable")
