"""Running a transaction again when PostgreSQL chose it as a deadlock victim or could not serialise it.

Both errors roll the whole transaction back, so running the same unit of work again is safe; the
database asks clients to do exactly that. Anything else is raised as it came.
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
ATTEMPTS: Final = 4
log = structlog.get_logger(__name__)


def _retryable(exc: DBAPIError) -> bool:
    return getattr(exc.orig, "sqlstate", None) in RETRYABLE


async def retrying(work: Callable[[], Awaitable[T]]) -> T:
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return await work()
        except DBAPIError as exc:
            if attempt == ATTEMPTS or not _retryable(exc):
                raise
            log.warning("transaction retried", attempt=attempt, sqlstate=getattr(exc.orig, "sqlstate", None))
            # A little jitter so that the transactions that collided do not meet again at once.
            await asyncio.sleep(random.uniform(0.005, 0.05) * attempt)  # noqa: S311 - not security
    raise AssertionError("unreachable")
