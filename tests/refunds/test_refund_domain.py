"""Refund rules: state machine, never more back than was captured, refund windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tongbao.channels.kinds import Channel
from tongbao.payments.domain import PaymentStatus
from tongbao.refunds.domain import (
    IllegalRefundTransition,
    RefundStatus,
    check_refund_amount,
    check_refund_transition,
    check_refundable,
    next_refund_query_at,
    payment_status_after,
)
from tongbao.rules import RuleBroken

# Written out from the design, independently of the module's table.
LEGAL = {("pending", "succeeded"), ("pending", "failed")}


@given(st.lists(st.sampled_from(list(RefundStatus)), max_size=12))
def test_refunds_move_only_pending_to_a_final_state_and_never_back(targets: list[RefundStatus]) -> None:
    state = RefundStatus.PENDING
    for target in targets:
        if (state.value, target.value) in LEGAL:
            check_refund_transition(state, target)
            state = target
        else:
            with pytest.raises(IllegalRefundTransition):
                check_refund_transition(state, target)
    assert state in (RefundStatus.PENDING, *(RefundStatus(t) for _, t in LEGAL))


@given(st.integers(1, 10**8), st.lists(st.integers(-5, 10**8), max_size=30))
def test_accepted_refunds_never_add_up_to_more_than_the_capture(captured: int, asks: list[int]) -> None:
    committed = 0
    for ask in asks:
        try:
            committed += check_refund_amount(ask, captured, committed)
        except RuleBroken as problem:
            assert problem.code in ("amount_invalid", "refund_exceeds_remaining")
            assert ask <= 0 or committed + ask > captured
    assert 0 <= committed <= captured


@pytest.mark.parametrize("amount", [0, -1, 1.5, "1", True, None])
def test_a_refund_amount_is_a_positive_integer(amount: object) -> None:
    with pytest.raises(RuleBroken) as raised:
        check_refund_amount(amount, 100, 0)
    assert (raised.value.code, raised.value.param) == ("amount_invalid", "amount")


@given(st.integers(1, 10**8), st.data())
def test_the_payment_state_follows_what_was_refunded(captured: int, data: st.DataObject) -> None:
    refunded = data.draw(st.integers(0, captured))
    status = payment_status_after(captured, refunded)
    expected = (
        PaymentStatus.SUCCEEDED
        if refunded == 0
        else PaymentStatus.REFUNDED
        if refunded == captured
        else PaymentStatus.REFUNDED_PARTIALLY
    )
    assert status is expected


@pytest.mark.parametrize("channel", list(Channel))
def test_refunds_are_taken_for_a_year_after_payment(channel: Channel) -> None:
    paid = datetime(2026, 1, 10, 3, 0, tzinfo=UTC)
    check_refundable(PaymentStatus.SUCCEEDED, channel, paid, paid + timedelta(days=365))
    with pytest.raises(RuleBroken) as raised:
        check_refundable(
            PaymentStatus.REFUNDED_PARTIALLY, channel, paid, paid + timedelta(days=365, seconds=1)
        )
    assert raised.value.code == "refund_window_closed"


@pytest.mark.parametrize("status", [PaymentStatus.PENDING, PaymentStatus.CLOSED, PaymentStatus.FAILED])
def test_only_captured_payments_can_be_refunded(status: PaymentStatus) -> None:
    now = datetime(2026, 11, 25, tzinfo=UTC)
    with pytest.raises(RuleBroken) as raised:
        check_refundable(status, Channel.WECHATPAY, now, now)
    assert raised.value.code == "payment_not_refundable"


@given(st.integers(0, 2000))
def test_refund_queries_come_ever_later_and_never_less_than_an_hour_apart_after_the_ladder(
    queries_done: int,
) -> None:
    created = datetime(2026, 1, 1, tzinfo=UTC)
    this, following = (next_refund_query_at(created, queries_done + i) for i in range(2))
    assert created < this < following
    assert following - this <= timedelta(hours=1)
    if queries_done >= 3:
        assert following - this == timedelta(hours=1)
