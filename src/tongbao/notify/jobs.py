"""The worker's side of notifications: deliver on schedule until delivered or given up."""

from __future__ import annotations

from tongbao.container import Container
from tongbao.jobs.queue import ClaimedJob
from tongbao.jobs.worker import RetryAt
from tongbao.notify.delivery import EventStatus, Trigger, deliver
from tongbao.notify.events import DeliverEvent


async def deliver_event(c: Container, job: ClaimedJob) -> RetryAt | None:
    outcome = await deliver(c, DeliverEvent.of(job).event_id, Trigger.SCHEDULE)
    if outcome.status is EventStatus.PENDING and outcome.next_attempt_at is not None:
        # A busy endpoint (no delivery made) does not use up one of the job's attempts.
        return RetryAt(outcome.next_attempt_at, counts=outcome.delivery is not None)
    return None
