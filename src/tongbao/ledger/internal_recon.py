"""Internal reconciliation (系统间对账): the trade records (payments, refunds, fees) against the
journal. Every captured payment has exactly one capture entry with the right gross, fee and net;
every succeeded refund exactly one refund entry; no entry stands without its event.

``differences`` only reads; ``run`` records a run and what it found (``/admin/v1/recon/internal``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tongbao.container import Container
from tongbao.ids import new_id
from tongbao.ledger.domain import EntryKind
from tongbao.ledger.models import InternalDifference, InternalReconRun, LedgerEntry
from tongbao.ledger.plans import fee_rule
from tongbao.payments.domain import PaymentStatus
from tongbao.payments.models import Payment, PaymentAttempt
from tongbao.refunds.domain import RefundStatus
from tongbao.refunds.models import Refund

BEIJING: Final = ZoneInfo("Asia/Shanghai")
CAPTURED = (PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED_PARTIALLY, PaymentStatus.REFUNDED)
CAPTURE_KINDS = (EntryKind.PAYMENT_CAPTURED.value, EntryKind.CAPTURE_TAKEN.value)


@dataclass(frozen=True)
class Difference:
    kind: str
    message: str
    payment_id: str | None = None
    refund_id: str | None = None
    entry_id: str | None = None


@dataclass
class Findings:
    payments: int = 0
    refunds: int = 0
    entries: int = 0
    differences: list[Difference] | None = None


def day_bounds(business_date: date) -> tuple[datetime, datetime]:
    """A Beijing business date as a UTC range."""
    start = datetime.combine(business_date, time(0), BEIJING)
    return start, start + timedelta(days=1)


def _in(column: Any, bounds: tuple[datetime, datetime] | None) -> Any:
    return True if bounds is None else and_(column >= bounds[0], column < bounds[1])


async def _payments(tx: AsyncSession, bounds: tuple[datetime, datetime] | None, out: list[Difference]) -> int:
    rows = (
        await tx.execute(
            select(Payment, PaymentAttempt.method)
            .join(PaymentAttempt, PaymentAttempt.id == Payment.captured_attempt_id)
            .where(Payment.status.in_([s.value for s in CAPTURED]), _in(Payment.succeeded_at, bounds))
        )
    ).all()
    ids = [p.id for p, _ in rows]
    entries: dict[str, list[LedgerEntry]] = defaultdict(list)
    for chunk in range(0, len(ids), 500):
        for entry in await tx.scalars(
            select(LedgerEntry).where(
                LedgerEntry.payment_id.in_(ids[chunk : chunk + 500]), LedgerEntry.kind.in_(CAPTURE_KINDS)
            )
        ):
            entries[entry.payment_id or ""].append(entry)
    for payment, method in rows:
        found = [e for e in entries[payment.id] if e.attempt_id == payment.captured_attempt_id]
        if len(found) != 1:
            kind = "capture_entry_missing" if not found else "capture_entry_repeated"
            out.append(Difference(kind, f"payment {payment.id} has {len(found)} capture entries", payment.id))
            continue
        entry = found[0]
        assert payment.succeeded_at is not None and payment.captured_amount is not None
        fee = (await fee_rule(tx, payment.merchant_id, method, payment.succeeded_at)).charge(
            payment.captured_amount
        )
        expected = (payment.captured_amount, fee, payment.captured_amount - fee)
        if (entry.gross, entry.fee, entry.net) != expected:
            out.append(
                Difference(
                    "capture_figures_differ",
                    f"payment {payment.id}: entry {entry.id} says gross/fee/net "
                    f"{entry.gross}/{entry.fee}/{entry.net}, the payment {'/'.join(map(str, expected))}",
                    payment.id,
                    entry_id=entry.id,
                )
            )
    return len(rows)


async def _refunds(tx: AsyncSession, bounds: tuple[datetime, datetime] | None, out: list[Difference]) -> int:
    refunds = list(
        await tx.scalars(
            select(Refund).where(
                Refund.status == RefundStatus.SUCCEEDED.value, _in(Refund.finished_at, bounds)
            )
        )
    )
    ids = [r.id for r in refunds]
    entries: dict[str, list[LedgerEntry]] = defaultdict(list)
    for chunk in range(0, len(ids), 500):
        for entry in await tx.scalars(
            select(LedgerEntry).where(
                LedgerEntry.refund_id.in_(ids[chunk : chunk + 500]),
                LedgerEntry.kind == EntryKind.REFUND_SUCCEEDED.value,
            )
        ):
            entries[entry.refund_id or ""].append(entry)
    for refund in refunds:
        found = entries[refund.id]
        if len(found) != 1:
            kind = "refund_entry_missing" if not found else "refund_entry_repeated"
            out.append(
                Difference(
                    kind, f"refund {refund.id} has {len(found)} refund entries", refund.payment_id, refund.id
                )
            )
        elif found[0].gross != -refund.amount:
            out.append(
                Difference(
                    "refund_figures_differ",
                    f"refund {refund.id} of {refund.amount}: entry {found[0].id} sent back {-found[0].gross}",
                    refund.payment_id,
                    refund.id,
                    found[0].id,
                )
            )
    return len(refunds)


async def _orphans(tx: AsyncSession, bounds: tuple[datetime, datetime] | None, out: list[Difference]) -> int:
    """Entries whose event is not there: a capture of a payment that took none (or another one), a
    refund entry of a refund that did not succeed or does not exist."""
    rows = (
        await tx.execute(
            select(LedgerEntry, Payment.captured_attempt_id, Payment.id, Refund.id, Refund.status)
            .outerjoin(Payment, Payment.id == LedgerEntry.payment_id)
            .outerjoin(Refund, Refund.id == LedgerEntry.refund_id)
            .where(_in(LedgerEntry.created_at, bounds))
        )
    ).all()
    for entry, captured_by, payment_id, refund_id, refund_status in rows:
        problem = None
        if entry.payment_id is not None and payment_id is None:
            problem = f"entry {entry.id} names payment {entry.payment_id}, which does not exist"
        elif entry.kind in CAPTURE_KINDS and captured_by != entry.attempt_id:
            problem = f"entry {entry.id} captures attempt {entry.attempt_id}; the payment took {captured_by}"
        elif entry.refund_id is not None and refund_id is None:
            problem = f"entry {entry.id} names refund {entry.refund_id}, which does not exist"
        elif entry.kind == EntryKind.REFUND_SUCCEEDED and refund_status != RefundStatus.SUCCEEDED:
            problem = f"entry {entry.id} sends back refund {entry.refund_id}, which is {refund_status}"
        if problem is not None:
            out.append(
                Difference("entry_without_event", problem, entry.payment_id, entry.refund_id, entry.id)
            )
    return len(rows)


async def differences(tx: AsyncSession, business_date: date | None = None) -> Findings:
    bounds = day_bounds(business_date) if business_date is not None else None
    found: list[Difference] = []
    payments = await _payments(tx, bounds, found)
    refunds = await _refunds(tx, bounds, found)
    entries = await _orphans(tx, bounds, found)
    return Findings(payments, refunds, entries, found)


async def run(c: Container, business_date: date | None) -> tuple[InternalReconRun, list[Difference]]:
    started = c.clock.now()
    async with c.uow() as tx:
        findings = await differences(tx, business_date)
        found = findings.differences or []
        record = InternalReconRun(
            id=new_id("recon_run"),
            business_date=business_date.isoformat() if business_date else None,
            payments_checked=findings.payments,
            refunds_checked=findings.refunds,
            entries_checked=findings.entries,
            differences=len(found),
            started_at=started,
            finished_at=c.clock.now(),
        )
        tx.add(record)
        await tx.flush()
        for d in found:
            tx.add(
                InternalDifference(
                    id=new_id("recon_difference"),
                    run_id=record.id,
                    kind=d.kind,
                    payment_id=d.payment_id,
                    refund_id=d.refund_id,
                    entry_id=d.entry_id,
                    message=d.message[:500],
                    created_at=record.finished_at,
                )
            )
        await tx.commit()
    return record, found
