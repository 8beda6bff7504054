"""The checks after quiescence. Each finding names the rows it is about, so that one can go and look.

- money: every order a channel holds as paid is captured in Tongbao (or held in an open case), for
  the amount paid; nothing is captured that the channel does not hold as paid;
- refunds: Σ refunds pending and succeeded ≤ captured, refunded_amount = Σ succeeded, and the
  payment's status agrees;
- notifications: every event reached the merchant's endpoint exactly once (it answers 200), signed,
  and each change of a payment or refund was told once;
- jobs: none running past its lease, none due long ago and unclaimed, none given up;
- expiry: no payment pending past its expiry (unless held for an operator).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from tongbao.harness.receiver import Delivery

from .killer import KillRecord
from .records import Records
from .settle import grace

CAPTURED: Final = ("succeeded", "refunded_partially", "refunded")
# A delivery answered 200 and then its worker killed before it wrote that down is sent again: the
# one duplicate at-least-once delivery cannot avoid. Counted apart, not as a violation.
RECORD_WINDOW_S: Final = 2.0


@dataclass(frozen=True)
class Violation:
    check: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"check": self.check, "message": self.message}


@dataclass(frozen=True)
class ChannelOrder:
    """An attempt as its channel holds it: None where the channel has never heard of it."""

    paid_amount: int | None


def channel_paid(channel: str, record: Mapping[str, Any]) -> int | None:
    """Fen the channel holds as paid for this order, or None."""
    if channel == "wechatpay":
        if record.get("trade_state") not in ("SUCCESS", "REFUND"):
            return None
        return int(record["amount"].get("payer_total", record["amount"]["total"]))
    if channel == "alipay" and record.get("cancel_action") == "refund":
        return None  # a barcode charge revoked by alipay.trade.cancel went back to the payer whole
    paid = record.get("paid_amount")
    return int(paid) if paid is not None else None


def check_money(records: Records, orders: Mapping[str, ChannelOrder]) -> list[Violation]:
    found: list[Violation] = []
    held = records.open_case_payments()
    payments = {p.id: p for p in records.payments}
    excused = {c.attempt_id for c in records.cases} | {
        r.attempt_id for r in records.refunds if r.kind != "merchant"
    }
    for attempt in records.attempts:
        payment = payments[attempt.payment_id]
        order = orders.get(attempt.id)
        paid = order.paid_amount if order is not None else None
        captured_here = payment.status in CAPTURED and payment.captured_attempt_id == attempt.id
        if paid is not None and not captured_here:
            if payment.id in held or attempt.id in excused:
                continue
            found.append(
                Violation(
                    "money",
                    f"{attempt.channel} holds {attempt.id} paid ({paid} fen) but payment {payment.id} "
                    f"({payment.out_trade_no}) is {payment.status}"
                    + (f", captured by {payment.captured_attempt_id}" if payment.captured_attempt_id else "")
                    + ", with no open case",
                )
            )
        elif captured_here and paid is None:
            found.append(
                Violation(
                    "money",
                    f"payment {payment.id} ({payment.out_trade_no}) is {payment.status} by {attempt.id}, "
                    f"which {attempt.channel} does not hold as paid",
                )
            )
        elif captured_here and paid != payment.captured_amount and payment.id not in held:
            found.append(
                Violation(
                    "money",
                    f"payment {payment.id} captured {payment.captured_amount} fen; "
                    f"{attempt.channel} holds {paid} fen paid for {attempt.id}",
                )
            )
    return found


def check_refunds(records: Records) -> list[Violation]:
    found: list[Violation] = []
    by_payment: dict[str, list[Any]] = defaultdict(list)
    for refund in records.refunds:
        by_payment[refund.payment_id].append(refund)
    for payment in records.payments:
        refunds = by_payment.get(payment.id, [])
        held = sum(r.amount for r in refunds if r.status in ("pending", "succeeded"))
        done = sum(r.amount for r in refunds if r.status == "succeeded")
        captured = payment.captured_amount or 0
        ids = ", ".join(f"{r.id} {r.amount} {r.status}" for r in refunds)
        if held > captured:
            found.append(
                Violation(
                    "refunds", f"payment {payment.id}: refunds of {held} fen on {captured} captured ({ids})"
                )
            )
        if payment.refunded_amount != done:
            found.append(
                Violation(
                    "refunds",
                    f"payment {payment.id}: refunded_amount {payment.refunded_amount}, "
                    f"succeeded refunds {done} ({ids})",
                )
            )
        if payment.status in CAPTURED and captured:
            expected = "succeeded" if done == 0 else "refunded" if done >= captured else "refunded_partially"
            if payment.status != expected:
                found.append(
                    Violation(
                        "refunds",
                        f"payment {payment.id} is {payment.status} with {done} of {captured} refunded",
                    )
                )
    return found


def check_notifications(
    records: Records, deliveries: Sequence[Delivery], kills: Sequence[KillRecord]
) -> tuple[list[Violation], int]:
    """Findings, and how many duplicates a worker's death right after a delivery explains."""
    found: list[Violation] = []
    by_event: dict[str, list[Delivery]] = defaultdict(list)
    for delivery in deliveries:
        by_event[delivery.event_id].append(delivery)
    worker_kills = [k.at for k in kills if k.process.startswith("worker")]
    explained = 0
    known = {e.id for e in records.events}
    for event in records.events:
        got = sorted(by_event.get(event.id, []), key=lambda d: d.at)
        if not got:
            found.append(
                Violation(
                    "notifications",
                    f"{event.type} {event.id} (payment {event.payment_id}) never reached the merchant; "
                    f"it is {event.status} after {event.attempts} attempts",
                )
            )
            continue
        if any(not d.signed for d in got):
            found.append(
                Violation("notifications", f"{event.id} arrived with a signature that does not verify")
            )
        if len(got) > 1:
            first, second = got[0].at, got[1].at
            if len(got) == 2 and any(
                first <= k <= second and k - first <= RECORD_WINDOW_S for k in worker_kills
            ):
                explained += 1
                continue
            found.append(
                Violation(
                    "notifications",
                    f"{event.type} {event.id} (payment {event.payment_id}) reached the merchant "
                    f"{len(got)} times, each answered 200",
                )
            )
    for event_id in by_event.keys() - known:
        found.append(
            Violation("notifications", f"the merchant got event {event_id}, which Tongbao has no record of")
        )
    found += _one_event_per_change(records)
    return found, explained


def _one_event_per_change(records: Records) -> list[Violation]:
    found: list[Violation] = []
    told: dict[str, Counter[str]] = defaultdict(Counter)
    for event in records.events:
        subject = event.payment_id or "?"
        if event.type.startswith("refund."):
            subject = _event_subject(event.body) or subject
        told[subject][event.type] += 1
    for subject, types in told.items():
        for kind, n in types.items():
            if n > 1:
                found.append(
                    Violation("notifications", f"{subject}: {n} distinct {kind} events for one change")
                )
    return found + _every_change_told(records, told)


def _every_change_told(records: Records, told: Mapping[str, Counter[str]]) -> list[Violation]:
    found: list[Violation] = []
    for payment in records.payments:
        types = told.get(payment.id, Counter())
        if payment.status in CAPTURED and not types["payment.succeeded"]:
            found.append(
                Violation("notifications", f"payment {payment.id} is {payment.status}: no payment.succeeded")
            )
        if payment.status == "closed" and not types["payment.closed"]:
            found.append(Violation("notifications", f"payment {payment.id} is closed: no payment.closed"))
    for refund in records.refunds:
        types = told.get(refund.id, Counter())
        if refund.kind == "merchant" and refund.status in ("succeeded", "failed"):
            if not types[f"refund.{refund.status}"]:
                found.append(Violation("notifications", f"refund {refund.id} is {refund.status}: not told"))
    return found


def _event_subject(body: str) -> str | None:
    try:
        data = json.loads(body).get("data") or {}
    except ValueError:
        return None
    subject = data.get("id")
    return str(subject) if subject else None


def check_jobs(records: Records) -> list[Violation]:
    found: list[Violation] = []
    now, late = records.now, records.now - grace()
    for job in records.jobs:
        what = f"job {job.id} ({job.kind} {job.payload})"
        if job.status == "running" and job.lease_expires_at is not None and job.lease_expires_at < now:
            found.append(Violation("jobs", f"{what} is running past its lease ({job.lease_owner})"))
        elif job.status == "queued" and job.run_at < late:
            found.append(Violation("jobs", f"{what} was due at {job.run_at:%H:%M:%S} and nobody took it"))
        elif job.status == "failed":
            found.append(
                Violation("jobs", f"{what} was given up after {job.attempts} attempts: {job.last_error}")
            )
    return found


def check_expiry(records: Records) -> list[Violation]:
    held = records.open_case_payments()
    return [
        Violation(
            "expiry",
            f"payment {p.id} ({p.out_trade_no}) is pending "
            f"{int((records.now - p.expires_at).total_seconds())} s past its expiry",
        )
        for p in records.payments
        if p.status == "pending" and p.expires_at <= records.now and p.id not in held
    ]
