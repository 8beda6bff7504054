"""The chaos run's checks find what they are for: each is fed the rows a broken Tongbao would leave."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tongbao.chaos.invariants import (
    ChannelOrder,
    channel_paid,
    check_expiry,
    check_jobs,
    check_money,
    check_notifications,
    check_refunds,
)
from tongbao.chaos.killer import KillRecord
from tongbao.chaos.records import Records
from tongbao.harness.receiver import Delivery
from tongbao.jobs.models import Job
from tongbao.notify.models import NotificationEvent
from tongbao.payments.models import Payment, PaymentAttempt
from tongbao.refunds.models import Refund

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def _payment(status: str = "succeeded", captured: int | None = 1000, refunded: int = 0, **kw: Any) -> Payment:
    values: dict[str, Any] = {
        "id": "pay_1",
        "out_trade_no": "chaos-1",
        "amount": 1000,
        "status": status,
        "captured_amount": captured,
        "captured_attempt_id": "pat_1" if captured else None,
        "refunded_amount": refunded,
        "expires_at": NOW + timedelta(minutes=1),
    }
    return Payment(**{**values, **kw})


def _records(**kw: Any) -> Records:
    values: dict[str, Any] = {
        "now": NOW,
        "payments": [_payment()],
        "attempts": [PaymentAttempt(id="pat_1", payment_id="pay_1", channel="wechatpay")],
        "refunds": [],
        "events": [],
        "cases": [],
        "jobs": [],
    }
    return Records(**{**values, **kw})


def _refund(rid: str, amount: int, status: str) -> Refund:
    return Refund(
        id=rid, payment_id="pay_1", attempt_id="pat_1", amount=amount, status=status, kind="merchant"
    )


def test_money_a_channel_holds_paid_must_be_captured_and_nothing_else() -> None:
    pending = _records(payments=[_payment("pending", captured=None)])
    assert [v.check for v in check_money(pending, {"pat_1": ChannelOrder(1000)})] == ["money"]
    assert check_money(_records(), {"pat_1": ChannelOrder(1000)}) == []
    assert "does not hold as paid" in check_money(_records(), {})[0].message
    assert "holds 999 fen" in check_money(_records(), {"pat_1": ChannelOrder(999)})[0].message


def test_refunds_over_the_capture_or_out_of_step_with_the_payment_are_found() -> None:
    over = _records(refunds=[_refund("rfd_1", 600, "succeeded"), _refund("rfd_2", 500, "pending")])
    assert any("1100 fen on 1000" in v.message for v in check_refunds(over))
    lagging = _records(refunds=[_refund("rfd_1", 600, "succeeded")])
    assert [v.message for v in check_refunds(lagging)] == [
        "payment pay_1: refunded_amount 0, succeeded refunds 600 (rfd_1 600 succeeded)",
        "payment pay_1 is succeeded with 600 of 1000 refunded",
    ]
    right = _records(
        payments=[_payment("refunded_partially", refunded=600)], refunds=[_refund("rfd_1", 600, "succeeded")]
    )
    assert check_refunds(right) == []


def _event(eid: str) -> NotificationEvent:
    return NotificationEvent(
        id=eid, type="payment.succeeded", payment_id="pay_1", body="{}", status="delivered", attempts=1
    )


def _delivery(eid: str, at: float) -> Delivery:
    return Delivery("merchant", eid, "payment.succeeded", {}, at, True)


def test_an_event_is_delivered_exactly_once_unless_its_worker_died_before_writing_it_down() -> None:
    records = _records(events=[_event("evt_1")])
    assert check_notifications(records, [_delivery("evt_1", 10.0)], []) == ([], 0)
    twice = [_delivery("evt_1", 10.0), _delivery("evt_1", 30.0)]
    found, explained = check_notifications(records, twice, [])
    assert explained == 0 and "2 times" in found[0].message
    killed = [KillRecord(1, "worker 0", 1, 10.5, 1.0)]
    assert check_notifications(records, twice, killed) == ([], 1)
    missing, _ = check_notifications(records, [_delivery("evt_2", 1.0)], [])
    assert {v.message.split(" ")[0] for v in missing} == {"payment.succeeded", "the"}


def test_stuck_lost_and_given_up_jobs_and_payments_open_past_expiry_are_found() -> None:
    def job(status: str, **kw: Any) -> Job:
        return Job(id="job_1", kind="payment.expire", payload={}, status=status, attempts=1, **kw)

    assert check_jobs(_records(jobs=[job("running", lease_expires_at=NOW - timedelta(seconds=1))]))
    assert check_jobs(_records(jobs=[job("queued", run_at=NOW - timedelta(minutes=5))]))
    assert check_jobs(_records(jobs=[job("failed", run_at=NOW)]))
    assert check_jobs(_records(jobs=[job("queued", run_at=NOW)])) == []
    late = _payment("pending", captured=None, expires_at=NOW - timedelta(minutes=2))
    assert "120 s past its expiry" in check_expiry(_records(payments=[late]))[0].message


def test_what_each_simulator_holds_as_paid() -> None:
    assert channel_paid("wechatpay", {"trade_state": "REFUND", "amount": {"total": 5, "payer_total": 5}}) == 5
    assert channel_paid("wechatpay", {"trade_state": "NOTPAY", "amount": {"total": 5}}) is None
    assert channel_paid("alipay", {"paid_amount": 5, "cancel_action": "refund"}) is None
    assert channel_paid("unionpay", {"paid_amount": 7}) == 7
