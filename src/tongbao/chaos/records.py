"""What the database holds about one run's merchant, read directly: its payments and their attempts,
refunds, events and cases, and the jobs that work on them (the job table is shared by every
merchant, so a job is the run's when its payload names one of the run's rows)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from tongbao.cases.models import ExceptionCase
from tongbao.container import Container
from tongbao.jobs.models import Job
from tongbao.notify.models import NotificationEvent
from tongbao.payments.models import Payment, PaymentAttempt
from tongbao.refunds.models import Refund


@dataclass
class Records:
    now: datetime
    payments: list[Payment]
    attempts: list[PaymentAttempt]
    refunds: list[Refund]
    events: list[NotificationEvent]
    cases: list[ExceptionCase]
    jobs: list[Job]  # the run's own, and the periodic ones every run shares

    def open_case_payments(self) -> set[str]:
        return {c.payment_id for c in self.cases if c.status == "open" and c.payment_id}


async def read_records(c: Container, merchant_id: str) -> Records:
    async with c.uow() as tx:
        payments = list(await tx.scalars(select(Payment).where(Payment.merchant_id == merchant_id)))
        ids = [p.id for p in payments]
        attempts = list(await tx.scalars(select(PaymentAttempt).where(PaymentAttempt.payment_id.in_(ids))))
        refunds = list(await tx.scalars(select(Refund).where(Refund.merchant_id == merchant_id)))
        events = list(
            await tx.scalars(select(NotificationEvent).where(NotificationEvent.merchant_id == merchant_id))
        )
        cases = list(await tx.scalars(select(ExceptionCase).where(ExceptionCase.merchant_id == merchant_id)))
        jobs = list(await tx.scalars(select(Job)))
    ours = {*ids, *(a.id for a in attempts), *(r.id for r in refunds), *(e.id for e in events)}
    mine = [j for j in jobs if j.every_s is not None or ours & {str(v) for v in (j.payload or {}).values()}]
    return Records(c.clock.now(), payments, attempts, refunds, events, cases, mine)
