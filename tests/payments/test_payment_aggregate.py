"""The payment aggregate on its own: random sequences of what channels, merchants and operators do,
applied to plain records. Whatever the order, states only move the way DESIGN §4 allows, a refused
move changes nothing, and the events account for every fen that moved."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tongbao.events import DomainEvent
from tongbao.payments import domain
from tongbao.payments.domain import (
    AttemptStatus,
    CaptureDuplicated,
    CaptureLate,
    CaptureMismatched,
    IllegalTransition,
    PaymentClosed,
    PaymentFailed,
    PaymentRefunded,
    PaymentStatus,
    PaymentSucceeded,
    UnderReview,
)

T0 = datetime(2026, 12, 3, 15, 59, 59, tzinfo=UTC)
# Written out independently of the module, as in test_payment_domain.
PAYMENT_MOVES = {
    "pending": {"succeeded", "closed", "failed"},
    "succeeded": {"refunded_partially", "refunded"},
    "refunded_partially": {"refunded_partially", "refunded"},
    "closed": {"succeeded"},  # only a late capture
    "failed": {"succeeded"},
    "refunded": set(),
}


@dataclass
class PaymentRow:
    id: str = "pay_1"
    merchant_id: str = "mch_1"
    amount: int = 1000
    currency: str = "CNY"
    method: str | None = "wechat_native"
    status: str = "pending"
    captured_attempt_id: str | None = None
    captured_amount: int | None = None
    refunded_amount: int = 0
    channel: str | None = None
    channel_account_id: str | None = None
    account_mode: str | None = None
    channel_trade_no: str | None = None
    held_since: datetime | None = None
    succeeded_at: datetime | None = None
    closed_at: datetime | None = None
    updated_at: datetime = T0


@dataclass
class AttemptRow:
    id: str
    payment_id: str = "pay_1"
    method: str = "wechat_native"
    channel: str = "wechatpay"
    channel_account_id: str = "cha_1"
    account_mode: str = "own"
    status: str = "pending"
    amount: int = 1000
    currency: str = "CNY"
    channel_trade_no: str | None = None
    paid_amount: int | None = None
    last_error: str | None = None
    updated_at: datetime = T0
    finished_at: datetime | None = None


@dataclass
class World:
    payment: PaymentRow = field(default_factory=PaymentRow)
    attempts: list[AttemptRow] = field(default_factory=lambda: [AttemptRow("pat_a"), AttemptRow("pat_b")])
    events: list[DomainEvent] = field(default_factory=list)


step = st.one_of(
    st.tuples(st.just("paid"), st.integers(0, 1), st.sampled_from([1000, 999, 1001])),
    st.tuples(st.just("finished"), st.integers(0, 1), st.sampled_from(["closed", "failed"])),
    st.tuples(st.just("close"), st.just(0), st.just(0)),
    st.tuples(st.just("release"), st.just(0), st.just(0)),
    st.tuples(st.just("accept"), st.integers(0, 1), st.just(0)),
    st.tuples(st.just("refund"), st.just(0), st.integers(1, 1200)),
)


def _apply(world: World, kind: str, which: int, value: Any, now: datetime) -> list[DomainEvent]:
    """What the services do with each fact, reduced to the aggregate's calls."""
    p, a = world.payment, world.attempts[which]
    if kind == "paid":
        if a.status in (AttemptStatus.SUCCEEDED, AttemptStatus.MISMATCHED):
            return []
        if value != a.amount:
            return domain.hold_for_review(
                p, a, amount=value, currency="CNY", channel_trade_no="42", evidence={}, now=now
            )
        if p.captured_attempt_id is not None or p.status != PaymentStatus.PENDING:
            return domain.extra_capture(p, a, amount=value, evidence={}, now=now)
        return domain.capture(p, a, amount=value, channel_trade_no="42", now=now)
    if kind == "finished":
        return domain.finish_attempt(p, a, AttemptStatus(value), now=now)
    if kind == "close":
        return domain.close(p, now)
    if kind == "release":
        return domain.release_hold(p, now)
    if kind == "accept":  # an operator takes a held capture's amount
        if a.status != AttemptStatus.MISMATCHED or a.paid_amount is None:
            return []
        late = p.status in (PaymentStatus.CLOSED, PaymentStatus.FAILED)
        return domain.capture(p, a, amount=a.paid_amount, channel_trade_no=None, now=now, late=late)
    assert kind == "refund"
    return domain.apply_refund(p, refund_id="ref_1", amount=value, currency="CNY", now=now)


@settings(max_examples=300, deadline=None)
@given(st.lists(step, max_size=12))
def test_any_sequence_keeps_the_state_machine_and_accounts_for_the_money(steps: list[Any]) -> None:
    world = World()
    now = T0
    for kind, which, value in steps:
        now += timedelta(seconds=1)
        before_p, before_a = replace(world.payment), [replace(a) for a in world.attempts]
        try:
            events = _apply(world, kind, which, value, now)
        except (IllegalTransition, UnderReview, AssertionError):
            # Refused: nothing about the money changed.
            assert world.payment == before_p
            assert world.attempts == before_a
            continue
        world.events += events
        moved = (before_p.status, world.payment.status)
        if moved[0] != moved[1]:
            assert moved[1] in PAYMENT_MOVES[moved[0]], moved
        for event in events:
            assert event.at == now
    p = world.payment
    succeeded = [e for e in world.events if isinstance(e, PaymentSucceeded)]
    refunded = [e for e in world.events if isinstance(e, PaymentRefunded)]
    # At most one capture is the payment's, and it is the one it records, amount and all.
    assert len(succeeded) <= 1
    if succeeded:
        assert (p.captured_attempt_id, p.captured_amount) == (succeeded[0].attempt_id, succeeded[0].amount)
    else:
        assert p.captured_attempt_id is None and p.captured_amount is None
    # Every fen refunded is in an event, and never more than was captured.
    assert sum(e.amount for e in refunded) == p.refunded_amount <= (p.captured_amount or 0)
    if refunded:
        assert refunded[-1].refunded_amount == p.refunded_amount
        assert refunded[-1].status == p.status
    # Every capture the channel reported is an event carrying its amount.
    for attempt in world.attempts:
        if attempt.status in (AttemptStatus.SUCCEEDED, AttemptStatus.MISMATCHED):
            reported = [
                e
                for e in world.events
                if isinstance(e, PaymentSucceeded | CaptureDuplicated | CaptureLate | CaptureMismatched)
                and e.attempt_id == attempt.id
            ]
            assert reported, attempt
            assert reported[0].amount == attempt.paid_amount
    closes = [e for e in world.events if isinstance(e, PaymentClosed | PaymentFailed)]
    assert len(closes) <= 1


def test_a_held_payment_does_not_close_until_its_review_ends() -> None:
    payment, attempt = PaymentRow(), AttemptRow("pat_a")
    [held] = domain.hold_for_review(
        payment, attempt, amount=999, currency="CNY", channel_trade_no="42", evidence={}, now=T0
    )
    assert isinstance(held, CaptureMismatched)
    assert (held.amount, held.expected_amount) == (999, 1000)
    try:
        domain.close(payment, T0)
    except UnderReview:
        pass
    else:
        raise AssertionError("a held payment closed")
    assert payment.status == "pending"
    domain.release_hold(payment, T0)
    [closed] = domain.close(payment, T0)
    assert isinstance(closed, PaymentClosed) and payment.status == "closed"


def test_a_fixed_method_payment_fails_with_its_attempt_a_cashier_one_does_not() -> None:
    fixed, cashier = PaymentRow(), PaymentRow(method=None)
    events = domain.finish_attempt(fixed, AttemptRow("pat_a"), AttemptStatus.FAILED, now=T0)
    assert [type(e).__name__ for e in events] == ["AttemptFinished", "PaymentFailed"]
    assert fixed.status == "failed" and fixed.closed_at == T0
    events = domain.finish_attempt(cashier, AttemptRow("pat_b"), AttemptStatus.FAILED, now=T0)
    assert [type(e).__name__ for e in events] == ["AttemptFinished"]
    assert cashier.status == "pending"
