"""Fee plans on their own: what a capture is charged, and what its refunds give back, against
Decimal and Fraction arithmetic written out here rather than taken from the module.

The refunds are fed to the plan as the ledger's handlers feed it: each reservation is told the
payment's live refunded total after it and the fee given back so far (reservations less releases);
a failed refund is told the same of the refunds still live without it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Context, Decimal
from fractions import Fraction

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tongbao.ledger.domain import FeePlanInvalid, FeeRule, RefundMode

GROSS = st.one_of(st.integers(1, 60), st.integers(1, 100_000_000))
RATES = st.one_of(
    st.sampled_from([Decimal(0), Decimal(50), Decimal("0.6"), Decimal(5000), Decimal(7500), Decimal(10_000)]),
    st.decimals(min_value=0, max_value=10_000, places=4, allow_nan=False, allow_infinity=False),
)
MINIMUMS = st.one_of(st.integers(0, 10), st.integers(0, 100_000_000))
MODES = st.sampled_from(RefundMode)


@st.composite
def rules(draw: st.DrawFn) -> FeeRule:
    minimum = draw(MINIMUMS)
    cap = draw(st.none() | st.integers(minimum, minimum + 100_000_000))
    return FeeRule(draw(RATES), minimum, cap, draw(MODES))


def half_up(value: Fraction) -> int:
    """A non-negative fraction rounded half up to the fen."""
    return math.floor(value + Fraction(1, 2))


def fee_by_decimal(rule: FeeRule, gross: int) -> int:
    """The plan's fee by Decimal with room for every digit, quantized half up."""
    exact = Context(prec=60).divide(Decimal(gross) * rule.rate_bps, Decimal(10_000))
    fee = max(int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP)), rule.minimum)
    if rule.cap is not None:
        fee = min(fee, rule.cap)
    return min(fee, gross)


def share(rule: FeeRule, charged: int, refunded: int, gross: int) -> int:
    """What of the fee refunds of ``refunded`` carry: none, or their share rounded half up."""
    if rule.refund_mode is RefundMode.NONE:
        return 0
    return half_up(Fraction(charged * min(refunded, gross), gross))


# -- the fee -------------------------------------------------------------------------------------


@given(GROSS, rules())
@example(100, FeeRule(Decimal(50)))  # 0.5 fen: 1
@example(500, FeeRule(Decimal(50)))  # 2.5 fen: 3, where half even would say 2
@example(1, FeeRule(Decimal(10_000), minimum=5))  # the minimum, but never more than the gross
@example(100_000_000, FeeRule(Decimal("9999.9999"), minimum=0, cap=7))
def test_a_fee_is_the_rate_rounded_half_up_within_minimum_cap_and_gross(gross: int, rule: FeeRule) -> None:
    fee = rule.charge(gross)
    assert type(fee) is int
    assert 0 <= fee <= gross
    assert fee >= min(rule.minimum, gross)
    if rule.cap is not None:
        assert fee <= rule.cap
    assert fee == fee_by_decimal(rule, gross)


@given(st.integers(0, 1_000_000), st.sampled_from([Decimal(50), Decimal(5000), Decimal("0.5")]))
def test_a_half_fen_rounds_up(whole: int, rate: Decimal) -> None:
    # A gross whose fee at this rate is exactly ``whole`` and a half fen.
    gross = int((Decimal(2 * whole + 1) * Decimal(10_000) / (2 * rate)).to_integral_exact())
    assert Decimal(gross) * rate / Decimal(10_000) == Decimal(whole) + Decimal("0.5")
    assert FeeRule(rate).charge(gross) == min(whole + 1, gross)


# -- plans that are not plans ------------------------------------------------------------------------

BAD_RATES = st.one_of(
    st.decimals(max_value=Decimal("-0.0001"), places=4, allow_nan=False, allow_infinity=False),
    st.decimals(min_value=Decimal("10000.0001"), places=4, allow_nan=False, allow_infinity=False),
    st.sampled_from(
        [Decimal("NaN"), Decimal("sNaN"), Decimal("-NaN"), Decimal("Infinity"), Decimal("-Infinity")]
    ),
    st.integers(0, 10_000),
    st.floats(0, 10_000),
    st.sampled_from(["60", None, True, Fraction(60)]),
)


@given(BAD_RATES)
def test_a_rate_out_of_bounds_or_not_a_finite_decimal_is_refused(rate: object) -> None:
    with pytest.raises(FeePlanInvalid) as refused:
        FeeRule(rate)  # type: ignore[arg-type]
    assert (refused.value.code, refused.value.param) == ("rate_invalid", "rate_bps")


@given(RATES, st.one_of(st.integers(max_value=-1), st.sampled_from([1.0, "1", None, True, Decimal(1)])))
def test_a_negative_or_non_integer_minimum_is_refused(rate: Decimal, minimum: object) -> None:
    with pytest.raises(FeePlanInvalid) as refused:
        FeeRule(rate, minimum)  # type: ignore[arg-type]
    assert (refused.value.code, refused.value.param) == ("minimum_invalid", "minimum")


@given(RATES, st.integers(1, 100_000_000), st.data())
def test_a_cap_below_the_minimum_is_refused(rate: Decimal, minimum: int, data: st.DataObject) -> None:
    cap = data.draw(st.one_of(st.integers(max_value=minimum - 1), st.sampled_from([float(minimum), True])))
    with pytest.raises(FeePlanInvalid) as refused:
        FeeRule(rate, minimum, cap)  # type: ignore[arg-type]
    assert (refused.value.code, refused.value.param) == ("cap_invalid", "cap")


# -- refunds giving the fee back -----------------------------------------------------------------------


@st.composite
def parts_of(draw: st.DrawFn, gross: int) -> list[int]:
    """Partial refunds of a payment, summing to at most its gross (often to all of it)."""
    parts: list[int] = []
    left = gross
    while left > 0 and len(parts) < 12:
        if draw(st.integers(0, 5)) == 0:
            break
        part = draw(st.one_of(st.integers(1, min(left, 3)), st.integers(1, left), st.just(left)))
        parts.append(part)
        left -= part
    return parts


@dataclass
class Payment:
    """One payment's fee as the ledger's handlers see it in the journal: the live refunds, and the
    fee given back by reservations less what releases took back."""

    rule: FeeRule
    gross: int
    charged: int
    live: list[int] = field(default_factory=list)
    given: int = 0

    @property
    def refunded(self) -> int:
        return sum(self.live)

    def reserve(self, amount: int) -> int:
        back = self.rule.given_back(self.charged, self.gross, self.refunded + amount, self.given)
        self.live.append(amount)
        self.given += back
        return back

    def release(self, index: int) -> int:
        amount = self.live.pop(index)
        back = self.rule.taken_back(self.charged, self.gross, self.refunded, self.given)
        # No more than the refund's amount: undoing a refund never lowers the merchant's pending.
        assert back <= amount
        self.given -= back
        return back


def payment(rule: FeeRule, gross: int) -> Payment:
    return Payment(rule, gross, rule.charge(gross))


@given(rules(), GROSS, st.data())
def test_partial_refunds_give_back_the_share_they_carry_and_all_of_it_at_the_end(
    rule: FeeRule, gross: int, data: st.DataObject
) -> None:
    paid = payment(rule, gross)
    for part in data.draw(parts_of(gross)):
        back = paid.reserve(part)
        assert type(back) is int and back >= 0
        assert paid.given <= paid.charged
        assert paid.given == share(rule, paid.charged, paid.refunded, gross)
    if paid.refunded == gross:
        assert paid.given == (paid.charged if rule.refund_mode is RefundMode.PROPORTIONAL else 0)
    if rule.refund_mode is RefundMode.NONE:
        assert paid.given == 0


@st.composite
def histories(draw: st.DrawFn, gross: int) -> list[tuple[str, int]]:
    """Refunds opened (within what is left to refund) and failed in any order."""
    steps: list[tuple[str, int]] = []
    live: list[int] = []
    for _ in range(draw(st.integers(0, 16))):
        left = gross - sum(live)
        if live and (left == 0 or draw(st.booleans())):
            index = draw(st.integers(0, len(live) - 1))
            steps.append(("fail", index))
            live.pop(index)
        elif left > 0:
            part = draw(st.one_of(st.integers(1, min(left, 3)), st.integers(1, left), st.just(left)))
            steps.append(("open", part))
            live.append(part)
    return steps


@settings(max_examples=300)
@given(rules(), GROSS.flatmap(lambda gross: st.tuples(st.just(gross), histories(gross))))
@example(
    FeeRule(Decimal(7500)),
    (4, [("open", 2), ("open", 1), ("fail", 0), ("open", 1), ("open", 1), ("fail", 1)]),
)
def test_refunds_that_fail_and_refunds_after_them_never_give_back_more_than_charged(
    rule: FeeRule, case: tuple[int, list[tuple[str, int]]]
) -> None:
    gross, steps = case
    paid = payment(rule, gross)
    net = gross - paid.charged
    for step, value in steps:
        if step == "open":
            assert paid.reserve(value) >= 0
        else:
            assert paid.release(value) >= 0
        assert 0 <= paid.given <= paid.charged
        # The refunds standing carry exactly their share of the fee, whichever of them failed; so
        # they never take more of the merchant's money than the payment brought it.
        assert paid.given == share(rule, paid.charged, paid.refunded, gross)
        if rule.refund_mode is RefundMode.PROPORTIONAL:
            assert paid.refunded - paid.given <= net
    if paid.refunded == gross:
        assert paid.given == (paid.charged if rule.refund_mode is RefundMode.PROPORTIONAL else 0)
