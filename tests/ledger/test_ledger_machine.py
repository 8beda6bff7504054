"""A small world's ledger, driven at random: three merchants (the first also takes payments through
its own channel account), one shared channel account, fee plans and channel-cost plans. Payments are
captured, captures nobody owns wait in suspense (duplicates, late ones, mismatched ones) until their
payment takes them or Tongbao sends them back, merchants refund in parts, refunds fail, succeed,
are contested and withdrawn.

Each event becomes its entry through the posting rules, fed exactly as the ledger's handlers feed
them from what the journal already says; the entry's postings go to an in-memory ledger that, like
the real one, refuses a debit taking a no-negative account below zero. After every step the books
balance, and every account holds what the world says it should, worked out here from the payments
and refunds themselves rather than from the entries.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Final

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from tongbao.ledger.domain import (
    MERCHANT_KINDS,
    Account,
    EntryDraft,
    EntryKind,
    FeeRule,
    Purpose,
    RefundMode,
    check_entry,
)
from tongbao.ledger.domain import posting_rules as rules
from tongbao.ledger.domain.accounts import of_channel, of_merchant, platform

T0: Final = datetime(2026, 12, 3, 16, 0, tzinfo=UTC)
CNY: Final = "CNY"
MERCHANTS: Final = ("mch_0", "mch_1", "mch_2")
OWN_MERCHANT: Final = "mch_0"
SHARED, OWN = "ca_shared", "ca_own"

AMOUNTS = st.one_of(st.integers(1, 12), st.integers(1, 1_000_000))


@st.composite
def plans(draw: st.DrawFn) -> FeeRule:
    rate = draw(
        st.one_of(
            st.sampled_from(
                [Decimal(0), Decimal(25), Decimal(60), Decimal(5000), Decimal(7500), Decimal(9999)]
            ),
            st.decimals(min_value=0, max_value=10_000, places=4, allow_nan=False, allow_infinity=False),
        )
    )
    minimum = draw(st.integers(0, 5))
    cap = draw(st.none() | st.integers(minimum, 50))
    return FeeRule(rate, minimum, cap, draw(st.sampled_from(RefundMode)))


def carried(plan: FeeRule, charged: int, refunded: int, gross: int) -> int:
    """What of a fee or cost the live refunds of ``refunded`` carry: none, or their share of it
    rounded half up (all of it once the gross is refunded)."""
    if plan.refund_mode is RefundMode.NONE or refunded <= 0:
        return 0
    return math.floor(Fraction(charged * min(refunded, gross), gross) + Fraction(1, 2))


# -- the world -------------------------------------------------------------------------------------------


@dataclass
class Attempt:
    """Money a channel took for one attempt of a payment."""

    id: str
    payment_id: str
    merchant: str
    own: bool
    paid: int  # what the channel took (the attempt's paid amount)
    cost: int  # the channel's cost on it when it arrived
    unowned: bool  # in suspense, or sent back from it
    takeable: bool = False  # late or mismatched: its payment may still take it
    reported: tuple[int, ...] = ()  # other amounts the channel reported for it

    @property
    def channel(self) -> str:
        return OWN if self.own else SHARED


@dataclass
class Paid:
    """A payment that took its capture: ``amount`` captured, ``fee`` charged by ``plan``."""

    id: str
    attempt: Attempt
    amount: int
    plan: FeeRule
    fee: int


@dataclass
class Refund:
    id: str
    attempt: Attempt
    payment: Paid | None  # None: Tongbao's own refund of an unowned capture
    amount: int
    status: str = "pending"  # pending, succeeded, failed, contested (failed, reserved again)

    @property
    def reserved(self) -> bool:
        return self.status in ("pending", "contested")

    @property
    def committed(self) -> bool:
        """Counted against the capture: money on its way back, gone, or that may have gone."""
        return self.status != "failed"


@dataclass
class Sums:
    count: int = 0
    gross: int = 0
    fee: int = 0
    cost: int = 0


@dataclass
class Ledger:
    """Signed sums per account, and the journal; a debit taking a no-negative account below zero
    is refused, as ``journal.post`` refuses it."""

    sums: dict[Account, int] = field(default_factory=lambda: defaultdict(int))
    journal: list[EntryDraft] = field(default_factory=list)

    def post(self, draft: EntryDraft) -> bool:
        postings = check_entry(draft)
        assert draft.key not in {e.key for e in self.journal}
        for p in postings:
            if p.account.no_negative and p.account.balance_of(p.amount) < 0:
                if p.account.balance_of(self.sums[p.account] + p.amount) < 0:
                    return False
        for p in postings:
            self.sums[p.account] += p.amount
        self.journal.append(draft)
        return True

    def balance(self, account: Account) -> int:
        return account.balance_of(self.sums.get(account, 0))

    def total(self, attempt_id: str, *kinds: EntryKind) -> Sums:
        """What the handlers' ``_by_kind`` and ``_total`` read of an attempt's entries."""
        out = Sums()
        for e in self.journal:
            if e.refs.attempt_id == attempt_id and e.kind in kinds:
                out.count += 1
                out.gross += e.figures.gross
                out.fee += e.figures.fee
                out.cost += e.figures.cost
        return out

    def of_refund(self, refund_id: str, kind: EntryKind) -> list[EntryDraft]:
        return [e for e in self.journal if e.refs.refund_id == refund_id and e.kind is kind]


class LedgerWorld(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.ledger = Ledger()
        self.fee_plans: dict[str, FeeRule] = {}
        self.cost_plans: dict[str, FeeRule] = {}
        self.attempts: list[Attempt] = []
        self.payments: list[Paid] = []
        self.refunds: list[Refund] = []
        self.serial = 0

    def _id(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}_{self.serial}"

    @initialize(fees=st.lists(plans(), min_size=3, max_size=3), shared_cost=plans(), own_cost=plans())
    def plans(self, fees: list[FeeRule], shared_cost: FeeRule, own_cost: FeeRule) -> None:
        self.fee_plans = dict(zip(MERCHANTS, fees, strict=True))
        self.cost_plans = {SHARED: shared_cost, OWN: own_cost}

    # -- the handlers' arithmetic, over the journal ---------------------------------------------------

    def _capture(self, attempt: Attempt, amount: int) -> rules.Capture:
        return rules.Capture(
            attempt.merchant, attempt.payment_id, attempt.id, attempt.channel, attempt.own, amount, CNY, T0
        )

    def _facts(self, refund: Refund) -> rules.RefundFacts:
        a = refund.attempt
        return rules.RefundFacts(
            refund.id,
            a.merchant,
            a.payment_id,
            a.id,
            a.channel,
            a.own,
            refund.payment is None,
            refund.amount,
            CNY,
            T0,
        )

    def _payment_succeeded(self, attempt: Attempt, amount: int) -> Paid:
        plan = self.fee_plans[attempt.merchant]
        fee = plan.charge(amount)
        unowned = self.ledger.total(attempt.id, EntryKind.CAPTURE_UNOWNED)
        capture = self._capture(attempt, amount)
        if unowned.count == 0:
            cost = self.cost_plans[attempt.channel].charge(amount)
            draft = rules.payment_captured(capture, fee=fee, cost=cost)
        else:
            draft = rules.capture_taken(capture, fee=fee, held=unowned.gross)
        assert self.ledger.post(draft)
        return Paid(attempt.payment_id, attempt, amount, plan, fee)

    def _capture_unowned(self, attempt: Attempt) -> None:
        cost = self.cost_plans[attempt.channel].charge(attempt.paid)
        assert self.ledger.post(rules.capture_unowned(self._capture(attempt, attempt.paid), cost=cost))

    def _fee_standing(self, paid: Paid) -> tuple[int, int, int]:
        """The fee charged, the live refunded total and the fee given back so far."""
        charged = self.ledger.total(paid.attempt.id, EntryKind.PAYMENT_CAPTURED, EntryKind.CAPTURE_TAKEN)
        refunds = self.ledger.total(paid.attempt.id, EntryKind.REFUND_RESERVED, EntryKind.REFUND_RELEASED)
        return charged.fee, -refunds.gross, -refunds.fee

    def _reserve(self, refund: Refund) -> bool:
        reserved = self.ledger.of_refund(refund.id, EntryKind.REFUND_RESERVED)
        released = self.ledger.of_refund(refund.id, EntryKind.REFUND_RELEASED)
        assert len(reserved) == len(released)  # none standing: the world reserves no refund twice
        fee_back = 0
        if refund.payment is not None:
            charged, refunded, given = self._fee_standing(refund.payment)
            plan = refund.payment.plan
            fee_back = plan.given_back(charged, refund.payment.amount, refunded + refund.amount, given)
        draft = rules.refund_reserved(self._facts(refund), fee_back=fee_back, n=len(reserved) + 1)
        return self.ledger.post(draft)

    def _release(self, refund: Refund) -> None:
        reserved = self.ledger.of_refund(refund.id, EntryKind.REFUND_RESERVED)
        released = self.ledger.of_refund(refund.id, EntryKind.REFUND_RELEASED)
        assert len(reserved) == len(released) + 1
        fee_back = 0
        if refund.payment is not None:
            charged, refunded, given = self._fee_standing(refund.payment)
            plan = refund.payment.plan
            fee_back = plan.taken_back(charged, refund.payment.amount, refunded - refund.amount, given)
        draft = rules.refund_released(reserved[-1], fee_back=fee_back, n=len(released) + 1, at=T0)
        # A refund's failure is a fact the ledger must be able to record.
        assert self.ledger.post(draft), f"release of {refund} refused"

    def _succeed(self, refund: Refund) -> None:
        a = refund.attempt
        charged = self.ledger.total(
            a.id, EntryKind.PAYMENT_CAPTURED, EntryKind.CAPTURE_UNOWNED, EntryKind.CAPTURE_TAKEN
        )
        returned = self.ledger.total(a.id, EntryKind.REFUND_SUCCEEDED)
        cost_back = self.cost_plans[a.channel].given_back(
            charged.cost, a.paid, -returned.gross + refund.amount, -returned.cost
        )
        assert self.ledger.post(rules.refund_succeeded(self._facts(refund), cost_back=cost_back))

    # -- what the world says -----------------------------------------------------------------------------

    def _refunds_of(self, attempt: Attempt) -> list[Refund]:
        return [r for r in self.refunds if r.attempt is attempt]

    def _refunded(self, paid: Paid) -> int:
        """The payment's live refunds: reserved or gone back."""
        return sum(r.amount for r in self.refunds if r.payment is paid and r.committed)

    def _waiting(self) -> list[Attempt]:
        """Captures in suspense: nobody's, and not on their way back."""
        return [a for a in self.attempts if a.unowned and not any(r.committed for r in self._refunds_of(a))]

    def _refundable(self) -> list[Paid]:
        return [p for p in self.payments if self._refunded(p) < p.amount]

    def _given_back(self, paid: Paid) -> int:
        return carried(paid.plan, paid.fee, self._refunded(paid), paid.amount)

    def _short(self, paid: Paid, more: int = 0) -> int:
        """What the payment's live refunds (and ``more``) take of the merchant's pending beyond what
        the payment brought it; a positive figure is paid for by its other payments."""
        refunded = self._refunded(paid) + more
        return refunded - carried(paid.plan, paid.fee, refunded, paid.amount) - (paid.amount - paid.fee)

    def _refused(self, refund: Refund) -> None:
        """The ledger refused a reservation: the merchant's pending cannot pay for it, and the
        refund is not opened (or the contest not heard). That takes a payment whose refunds take
        more than it brought: its plan gives no fee back, or a contest reserved more than is left."""
        assert refund.payment is not None
        merchant = refund.attempt.merchant
        short = [
            p
            for p in self.payments
            if p.attempt.merchant == merchant
            and not p.attempt.own
            and self._short(p, refund.amount if p is refund.payment else 0) > 0
        ]
        assert short, refund
        for p in short:
            over = self._refunded(p) + (refund.amount if p is refund.payment else 0) > p.amount
            assert p.plan.refund_mode is RefundMode.NONE or over, (p, refund)
        event("a reservation refused")

    # -- events --------------------------------------------------------------------------------------

    @rule(merchant=st.sampled_from(MERCHANTS), own=st.booleans(), amount=AMOUNTS)
    def capture(self, merchant: str, own: bool, amount: int) -> None:
        attempt = Attempt(
            self._id("att"), self._id("pay"), merchant, own and merchant == OWN_MERCHANT, amount, 0, False
        )
        attempt.cost = 0 if attempt.own else self.cost_plans[attempt.channel].charge(amount)
        self.attempts.append(attempt)
        self.payments.append(self._payment_succeeded(attempt, amount))

    @precondition(lambda self: self.payments)
    @rule(data=st.data())
    def capture_duplicated(self, data: st.DataObject) -> None:
        """Paid twice: a second attempt of a captured payment takes the same money."""
        paid = data.draw(st.sampled_from(self.payments))
        first = paid.attempt
        attempt = Attempt(self._id("att"), paid.id, first.merchant, first.own, paid.amount, 0, True)
        self._arrives_unowned(attempt)

    @rule(
        merchant=st.sampled_from(MERCHANTS),
        own=st.booleans(),
        amount=AMOUNTS,
        other=st.none() | AMOUNTS,
        mismatched=st.booleans(),
    )
    def capture_late_or_mismatched(
        self, merchant: str, own: bool, amount: int, other: int | None, mismatched: bool
    ) -> None:
        """A closed payment's late capture, or one under another amount than the payment's (and
        perhaps a third amount the channel reports later)."""
        own = own and merchant == OWN_MERCHANT
        reported = (other,) if mismatched and other is not None and other != amount else ()
        attempt = Attempt(self._id("att"), self._id("pay"), merchant, own, amount, 0, True, True, reported)
        self._arrives_unowned(attempt)

    def _arrives_unowned(self, attempt: Attempt) -> None:
        attempt.cost = 0 if attempt.own else self.cost_plans[attempt.channel].charge(attempt.paid)
        self.attempts.append(attempt)
        self._capture_unowned(attempt)

    @precondition(lambda self: any(a.takeable for a in self._waiting()))
    @rule(data=st.data())
    def take_unowned(self, data: st.DataObject) -> None:
        """The late capture reopened, or the mismatch accepted (at an amount the channel reported)."""
        attempt = data.draw(st.sampled_from([a for a in self._waiting() if a.takeable]))
        accepted = data.draw(st.sampled_from((attempt.paid, *attempt.reported)))
        paid = self._payment_succeeded(attempt, accepted)
        attempt.unowned = attempt.takeable = False
        attempt.paid = accepted
        self.payments.append(paid)

    @precondition(lambda self: self._refundable())
    @rule(data=st.data())
    def open_refund(self, data: st.DataObject) -> None:
        paid = data.draw(st.sampled_from(self._refundable()))
        left = paid.amount - self._refunded(paid)
        amount = data.draw(st.one_of(st.integers(1, min(left, 3)), st.integers(1, left), st.just(left)))
        refund = Refund(self._id("ref"), paid.attempt, paid, amount)
        if self._reserve(refund):
            self.refunds.append(refund)
            return
        self._refused(refund)

    @precondition(lambda self: self._waiting())
    @rule(data=st.data())
    def refund_unowned(self, data: st.DataObject) -> None:
        """Tongbao sends a capture nobody owns back to the payer, all of it."""
        attempt = data.draw(st.sampled_from(self._waiting()))
        refund = Refund(self._id("ref"), attempt, None, attempt.paid)
        assert self._reserve(refund)
        self.refunds.append(refund)

    @precondition(lambda self: any(r.status == "pending" for r in self.refunds))
    @rule(data=st.data())
    def refund_fails(self, data: st.DataObject) -> None:
        refund = data.draw(st.sampled_from([r for r in self.refunds if r.status == "pending"]))
        self._release(refund)
        refund.status = "failed"

    @precondition(lambda self: any(r.reserved for r in self.refunds))
    @rule(data=st.data())
    def refund_succeeds(self, data: st.DataObject) -> None:
        """The channel settles it, or an operator finds a contested one did go back."""
        refund = data.draw(st.sampled_from([r for r in self.refunds if r.reserved]))
        self._succeed(refund)
        refund.status = "succeeded"

    def _contestable(self) -> list[Refund]:
        waiting = self._waiting()
        return [r for r in self.refunds if r.status == "failed" and (r.payment or r.attempt in waiting)]

    @precondition(lambda self: self._contestable())
    @rule(data=st.data())
    def contest_failed_refund(self, data: st.DataObject) -> None:
        """A refund recorded failed is reported gone back: its amount is reserved again, whatever
        was refunded since (the contest does not ask what is left to refund)."""
        refund = data.draw(st.sampled_from(self._contestable()))
        if self._reserve(refund):
            refund.status = "contested"
        else:
            self._refused(refund)

    @precondition(lambda self: any(r.status == "contested" for r in self.refunds))
    @rule(data=st.data())
    def withdraw_contest(self, data: st.DataObject) -> None:
        refund = data.draw(st.sampled_from([r for r in self.refunds if r.status == "contested"]))
        self._release(refund)
        refund.status = "failed"

    # -- invariants ----------------------------------------------------------------------------------

    @invariant()
    def books_balance(self) -> None:
        assert sum(v for a, v in self.ledger.sums.items() if not a.memo) == 0
        assert sum(v for a, v in self.ledger.sums.items() if a.memo) == 0

    @invariant()
    def no_negative_account_is_below_zero(self) -> None:
        for account, signed in self.ledger.sums.items():
            if account.no_negative:
                assert account.balance_of(signed) >= 0, account

    @invariant()
    def suspense_and_refunds_in_flight_are_what_the_world_says(self) -> None:
        for own, suspense, in_flight in (
            (False, Purpose.SUSPENSE, Purpose.REFUNDS_IN_FLIGHT),
            (True, Purpose.MEMO_SUSPENSE, Purpose.MEMO_REFUNDS_IN_FLIGHT),
        ):
            waiting = sum(a.paid for a in self._waiting() if a.own is own)
            assert self.ledger.balance(platform(suspense, CNY)) == waiting
            flying = sum(r.amount for r in self.refunds if r.reserved and r.attempt.own is own)
            assert self.ledger.balance(platform(in_flight, CNY)) == flying

    @invariant()
    def refunds_give_back_their_share_of_the_fee_and_never_more(self) -> None:
        for paid in self.payments:
            charged, _, given = self._fee_standing(paid)
            assert charged == paid.fee
            assert 0 <= given <= charged
            assert given == self._given_back(paid)

    @invariant()
    def fee_revenue_is_what_was_charged_less_what_went_back(self) -> None:
        expected = sum(p.fee - self._given_back(p) for p in self.payments)
        assert self.ledger.balance(platform(Purpose.FEE_REVENUE, CNY)) == expected

    @invariant()
    def pending_is_the_sum_of_the_nets(self) -> None:
        for merchant in MERCHANTS:
            pending = self.ledger.balance(of_merchant(merchant, Purpose.MERCHANT_PENDING, CNY))
            shared = [p for p in self.payments if p.attempt.merchant == merchant and not p.attempt.own]
            shared_ids = {p.attempt.id for p in shared}
            nets = sum(
                e.figures.net
                for e in self.ledger.journal
                if e.kind in MERCHANT_KINDS and e.refs.attempt_id in shared_ids
            )
            assert pending == nets
            assert pending == sum(p.amount - p.fee - self._refunded(p) + self._given_back(p) for p in shared)

    @invariant()
    def every_account_holds_what_the_world_says(self) -> None:
        expected: dict[Account, int] = defaultdict(int)
        for a in self.attempts:
            gone = sum(r.amount for r in self._refunds_of(a) if r.status == "succeeded")
            if a.own:
                expected[of_channel(a.channel, Purpose.MEMO_CHANNEL, CNY)] += a.paid - gone
            else:
                cost_back = carried(self.cost_plans[a.channel], a.cost, gone, a.paid)
                expected[of_channel(a.channel, Purpose.CHANNEL_RECEIVABLE, CNY)] += (
                    a.paid - a.cost - gone + cost_back
                )
                expected[platform(Purpose.CHANNEL_COST, CNY)] += a.cost - cost_back
        for a in self._waiting():
            expected[platform(Purpose.MEMO_SUSPENSE if a.own else Purpose.SUSPENSE, CNY)] -= a.paid
        for r in self.refunds:
            if r.reserved:
                purpose = Purpose.MEMO_REFUNDS_IN_FLIGHT if r.attempt.own else Purpose.REFUNDS_IN_FLIGHT
                expected[platform(purpose, CNY)] -= r.amount
        for p in self.payments:
            merchant, refunded, back = p.attempt.merchant, self._refunded(p), self._given_back(p)
            expected[platform(Purpose.FEE_REVENUE, CNY)] -= p.fee - back
            if p.attempt.own:
                expected[of_merchant(merchant, Purpose.MEMO_MERCHANT, CNY)] -= p.amount - refunded
                expected[of_merchant(merchant, Purpose.MERCHANT_RECEIVABLE, CNY)] += p.fee - back
            else:
                expected[of_merchant(merchant, Purpose.MERCHANT_PENDING, CNY)] -= (
                    p.amount - p.fee - refunded + back
                )
        held = {a: v for a, v in self.ledger.sums.items() if v}
        assert held == {a: v for a, v in expected.items() if v}


LedgerWorld.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
test_the_ledger_of_a_small_world = LedgerWorld.TestCase


def test_a_refund_failing_after_later_ones_leaves_them_their_share_of_the_fee() -> None:
    """4.00 fen at 7500 bps (fee 3): refunds of 2 (gives back 2) and 1 (0); the 2 fails; refunds
    of 1 (2: what the two live refunds carry) and 1 (0); the first of these fails. Undone as it was
    written, that failure took back 2 of the fee on a refund of 1: the merchant's pending from 0 to
    -1, refused by the ledger, so the refund's failure could not be recorded."""
    world = LedgerWorld()
    world.plans(
        fees=[FeeRule(Decimal(7500))] * 3, shared_cost=FeeRule(Decimal(0)), own_cost=FeeRule(Decimal(0))
    )
    world.capture(merchant="mch_1", own=False, amount=4)
    paid = world.payments[0]

    def opened(amount: int) -> Refund:
        refund = Refund(world._id("ref"), paid.attempt, paid, amount)
        assert world._reserve(refund)
        world.refunds.append(refund)
        return refund

    def failed(refund: Refund) -> None:
        world._release(refund)
        refund.status = "failed"

    first = opened(2)
    opened(1)
    failed(first)
    third = opened(1)
    opened(1)
    failed(third)
    world.no_negative_account_is_below_zero()
    world.refunds_give_back_their_share_of_the_fee_and_never_more()
    world.pending_is_the_sum_of_the_nets()
    world.every_account_holds_what_the_world_says()
    assert world.ledger.balance(of_merchant("mch_1", Purpose.MERCHANT_PENDING, CNY)) == 1  # 4 - 3 - 2 + 2
