"""The one place that wires Tongbao together: the container, what each domain event triggers, and
which handler runs each kind of job.

The money chain runs one way (payments ← refunds ← cases), and the ledger listens to all of them:
payments never call refunds or cases, and nothing calls the ledger.
What a payment's change triggers further up (an exception case, the policy refund of a duplicate,
a case settled by its refund) is a handler of the event the change returned, registered here and
run by the unit of work in the same transaction.
"""

from __future__ import annotations

from tongbao.cases import handlers as case_handlers
from tongbao.channels.registry import ChannelRegistry
from tongbao.clock import Clock, SystemClock
from tongbao.config import Settings
from tongbao.container import Container
from tongbao.db.engine import engine_for, make_sessionmaker
from tongbao.db.uow import EventHandlers, UnitOfWork
from tongbao.jobs.housekeeping import Housekeeping, housekeeping
from tongbao.jobs.payloads import JobPayload
from tongbao.jobs.worker import Handler, Periodic, Worker
from tongbao.ledger import handlers as ledger_handlers
from tongbao.ledger.jobs import (
    DailyInternalRecon,
    FoldBalances,
    SealChain,
    daily_internal_recon,
    fold_balances,
    seal_chain,
)
from tongbao.notify.endpoints import EndpointPool
from tongbao.notify.events import DeliverEvent
from tongbao.notify.jobs import deliver_event
from tongbao.payments import jobs as payment_jobs
from tongbao.payments.barcode import poll_barcode
from tongbao.payments.job_payloads import CloseAttempt, ExpirePayment, ExpirySweep, PollBarcode, QueryAttempt
from tongbao.refunds.opening import SyncRefund
from tongbao.refunds.submission import sync_refund
from tongbao.security.master_key import MasterKey
from tongbao.security.secretbox import SecretBox
from tongbao.ttl_cache import TtlCache


def event_handlers() -> EventHandlers:
    handlers = EventHandlers()
    ledger_handlers.register(handlers)
    case_handlers.register(handlers)
    return handlers


def build_container(settings: Settings, master_key: MasterKey, *, clock: Clock | None = None) -> Container:
    engine = engine_for(settings)
    clock = clock or SystemClock()
    secrets = SecretBox(master_key.key)
    return Container(
        settings=settings,
        engine=engine,
        uow=UnitOfWork(make_sessionmaker(engine), event_handlers(), on_refused=case_handlers.report_refusal),
        secrets=secrets,
        master_key_is_demo=master_key.is_demo,
        channels=ChannelRegistry(secrets, clock, timeout_s=settings.channel_timeout_s),
        endpoints=EndpointPool(settings.notify_per_endpoint, settings.notify_timeout_s),
        clock=clock,
        callers=TtlCache(settings.caller_cache_s),
    )


JOBS: dict[type[JobPayload], Handler] = {
    Housekeeping: housekeeping,
    DeliverEvent: deliver_event,
    QueryAttempt: payment_jobs.query_attempt,
    ExpirePayment: payment_jobs.expire_payment,
    ExpirySweep: payment_jobs.expiry_sweep,
    CloseAttempt: payment_jobs.close_stray_attempt,
    PollBarcode: poll_barcode,
    SyncRefund: sync_refund,
    FoldBalances: fold_balances,
    SealChain: seal_chain,
    DailyInternalRecon: daily_internal_recon,
}
JOB_HANDLERS: dict[str, Handler] = {payload.KIND: handler for payload, handler in JOBS.items()}

PERIODIC = (
    Periodic(Housekeeping.KIND, every_s=60),
    Periodic(ExpirySweep.KIND, every_s=30),
    Periodic(FoldBalances.KIND, every_s=1),
    Periodic(SealChain.KIND, every_s=5),
    Periodic(DailyInternalRecon.KIND, every_s=3600),
)


def build_worker(c: Container, **options: float | int | str) -> Worker:
    options.setdefault("lease_s", c.settings.job_lease_s)
    options.setdefault("concurrency", c.settings.worker_concurrency)
    return Worker(c, JOB_HANDLERS, PERIODIC, **options)  # type: ignore[arg-type]
