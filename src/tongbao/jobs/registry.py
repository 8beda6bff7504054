"""Every job kind and its handler, and the periodic schedule: the worker's wiring."""

from __future__ import annotations

from tongbao.bootstrap import Container
from tongbao.jobs.housekeeping import HOUSEKEEPING, housekeeping
from tongbao.jobs.worker import Handler, Periodic, Worker
from tongbao.notify.events import DELIVER_JOB
from tongbao.notify.jobs import deliver_event
from tongbao.payments import jobs as payment_jobs
from tongbao.payments.barcode import POLL_JOB, poll_barcode
from tongbao.payments.captures import CLOSE_ATTEMPT_JOB
from tongbao.payments.service import EXPIRE_JOB, QUERY_JOB
from tongbao.refunds.opening import SYNC_JOB as REFUND_SYNC_JOB
from tongbao.refunds.submission import sync_refund

HANDLERS: dict[str, Handler] = {
    HOUSEKEEPING: housekeeping,
    DELIVER_JOB: deliver_event,
    QUERY_JOB: payment_jobs.query_attempt,
    EXPIRE_JOB: payment_jobs.expire_payment,
    payment_jobs.EXPIRY_SWEEP: payment_jobs.expiry_sweep,
    CLOSE_ATTEMPT_JOB: payment_jobs.close_stray_attempt,
    POLL_JOB: poll_barcode,
    REFUND_SYNC_JOB: sync_refund,
}

PERIODIC = (
    Periodic(HOUSEKEEPING, every_s=60),
    Periodic(payment_jobs.EXPIRY_SWEEP, every_s=30),
)


def build_worker(c: Container, **options: float | int | str) -> Worker:
    return Worker(c, HANDLERS, PERIODIC, **options)  # type: ignore[arg-type]
