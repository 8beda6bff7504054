"""Periodic clean-up: spent request nonces and idempotency records past their time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import structlog

from tongbao.container import Container
from tongbao.jobs.payloads import JobPayload
from tongbao.jobs.queue import ClaimedJob
from tongbao.security import idempotency
from tongbao.security.replay import purge_nonces


@dataclass(frozen=True)
class Housekeeping(JobPayload):
    """Periodic: expired idempotency records and nonces go."""

    KIND: ClassVar[str] = "housekeeping"


log = structlog.get_logger(__name__)


async def housekeeping(c: Container, job: ClaimedJob) -> None:
    purged = {"nonces": await purge_nonces(c), "idempotency_records": await idempotency.purge(c)}
    if any(purged.values()):
        log.info("housekeeping", **purged)
