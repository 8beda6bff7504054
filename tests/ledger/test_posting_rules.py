"""The posting rules on their own: whatever the facts of a capture or a refund (shared or own channel
account, the merchant's refund or Tongbao's own of an unowned capture), the rule drafts an entry the
ledger accepts, its figures say what its postings do, and its reversal undoes it to the fen. What is
not an entry is refused with the code the ledger reports.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tongbao.ledger.domain import (
    MERCHANT_KINDS,
    Account,
    EntryDraft,
    EntryKind,
    LedgerRefused,
    Posting,
    Purpose,
    check_entry,
    parse_account_id,
)
from tongbao.ledger.domain import posting_rules as rules
from tongbao.ledger.domain.entries import merged, reversal
from tongbao.money import MAX_AMOUNT

T0 = datetime(2026, 12, 3, 16, 0, tzinfo=UTC)
CURRENCY = "CNY"
AMOUNTS = st.one_of(st.integers(1, 100), st.integers(1, MAX_AMOUNT))
NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=12)
MERCHANT_PURPOSES = {
    Purpose.MERCHANT_PENDING,
    Purpose.MERCHANT_AVAILABLE,
    Purpose.MERCHANT_RESERVE,
    Purpose.MERCHANT_RECEIVABLE,
    Purpose.MEMO_MERCHANT,
}
CHANNEL_PURPOSES = {Purpose.CHANNEL_RECEIVABLE, Purpose.MEMO_CHANNEL}


def ids(prefix: str) -> st.SearchStrategy[str]:
    return NAMES.map(lambda name: f"{prefix}_{name}")


def part_of(whole: int) -> st.SearchStrategy[int]:
    return st.one_of(st.integers(0, min(whole, 3)), st.integers(0, whole), st.just(whole))


@st.composite
def captures(draw: st.DrawFn) -> rules.Capture:
    return rules.Capture(
        merchant_id=draw(ids("mch")),
        payment_id=draw(ids("pay")),
        attempt_id=draw(ids("att")),
        channel_account_id=draw(ids("ca")),
        own=draw(st.booleans()),
        amount=draw(AMOUNTS),
        currency=CURRENCY,
        at=T0,
        case_id=draw(st.none() | ids("case")),
    )


@st.composite
def refunds(draw: st.DrawFn) -> rules.RefundFacts:
    return rules.RefundFacts(
        refund_id=draw(ids("ref")),
        merchant_id=draw(ids("mch")),
        payment_id=draw(ids("pay")),
        attempt_id=draw(ids("att")),
        channel_account_id=draw(ids("ca")),
        own=draw(st.booleans()),
        unowned=draw(st.booleans()),
        amount=draw(AMOUNTS),
        currency=CURRENCY,
        at=T0,
        case_id=draw(st.none() | ids("case")),
    )


@st.composite
def payment_captured(draw: st.DrawFn) -> EntryDraft:
    c = draw(captures())
    return rules.payment_captured(c, fee=draw(part_of(c.amount)), cost=draw(part_of(c.amount)))


@st.composite
def capture_unowned(draw: st.DrawFn) -> EntryDraft:
    c = draw(captures())
    return rules.capture_unowned(c, cost=draw(part_of(c.amount)))


@st.composite
def capture_taken(draw: st.DrawFn) -> EntryDraft:
    c = draw(captures())
    held = draw(st.one_of(st.just(c.amount), AMOUNTS))
    return rules.capture_taken(c, fee=draw(part_of(c.amount)), held=held)


@st.composite
def refund_reserved(draw: st.DrawFn) -> EntryDraft:
    r = draw(refunds())
    return rules.refund_reserved(r, fee_back=draw(part_of(r.amount)), n=draw(st.integers(1, 3)))


@st.composite
def refund_released(draw: st.DrawFn) -> EntryDraft:
    reservation = draw(refund_reserved())
    gave = -reservation.figures.fee
    unowned = reservation.figures.gross == 0
    amount = -next(p.amount for p in reservation.postings if p.account.purpose.endswith("refunds_in_flight"))
    # What the release takes back of the fee: what the reservation gave, or what leaves the other
    # live refunds their share (at most the refund's amount); nothing for an unowned capture.
    fee_back = 0 if unowned else draw(st.one_of(st.just(gave), part_of(amount)))
    return rules.refund_released(reservation, fee_back=fee_back, n=draw(st.integers(1, 3)), at=T0)


@st.composite
def refund_succeeded(draw: st.DrawFn) -> EntryDraft:
    r = draw(refunds())
    return rules.refund_succeeded(r, cost_back=draw(part_of(r.amount)))


DRAFTS = st.one_of(
    payment_captured(),
    capture_unowned(),
    capture_taken(),
    refund_reserved(),
    refund_released(),
    refund_succeeded(),
)


def sums(postings: tuple[Posting, ...]) -> dict[Account, int]:
    out: dict[Account, int] = defaultdict(int)
    for p in postings:
        out[p.account] += p.amount
    return out


def moved(postings: tuple[Posting, ...], purpose: Purpose) -> int:
    return sum(p.amount for p in postings if p.account.purpose is purpose)


# -- every rule drafts an entry ----------------------------------------------------------------------


@given(DRAFTS)
def test_every_rule_drafts_an_entry_the_ledger_accepts(draft: EntryDraft) -> None:
    postings = check_entry(draft)
    assert len(postings) >= 2
    assert len({p.account for p in postings}) == len(postings)
    assert all(type(p.amount) is int and p.amount != 0 for p in postings)
    assert all(p.account.currency == draft.currency for p in postings)
    assert sum(p.amount for p in postings if p.account.memo) == 0
    assert sum(p.amount for p in postings if not p.account.memo) == 0
    # Merging adds up, it changes no account's movement.
    assert {a: v for a, v in sums(draft.postings).items() if v} == sums(postings)


@given(DRAFTS)
def test_the_figures_say_what_the_postings_do(draft: EntryDraft) -> None:
    postings = check_entry(draft)
    figures = draft.figures
    if draft.kind in MERCHANT_KINDS:
        # Fee revenue moves by the fee; the merchant is owed the net (shared) or holds the gross and
        # owes the fee (own), as it reconciles them.
        assert moved(postings, Purpose.FEE_REVENUE) == -figures.fee
        pending = moved(postings, Purpose.MERCHANT_PENDING)
        receivable = moved(postings, Purpose.MERCHANT_RECEIVABLE)
        memo_merchant = moved(postings, Purpose.MEMO_MERCHANT)
        assert pending == -figures.net or (pending == 0 and receivable == figures.fee)
        if memo_merchant or receivable:
            assert (memo_merchant, receivable, pending) == (-figures.gross, figures.fee, 0)
    else:
        assert moved(postings, Purpose.FEE_REVENUE) == 0
        assert moved(postings, Purpose.CHANNEL_COST) == figures.cost
    assert figures.net == figures.gross - figures.fee


@given(DRAFTS)
def test_a_reversal_negates_its_entry_exactly(draft: EntryDraft) -> None:
    undo = reversal(draft, EntryKind.REFUND_RELEASED, f"{draft.key}:undone", T0)
    assert [(p.account, p.amount) for p in undo.postings] == [(p.account, -p.amount) for p in draft.postings]
    assert (undo.figures.gross, undo.figures.fee, undo.figures.cost) == (
        -draft.figures.gross,
        -draft.figures.fee,
        -draft.figures.cost,
    )
    assert undo.currency == draft.currency and undo.refs == draft.refs
    together = sums(check_entry(draft) + check_entry(undo))
    assert set(together.values()) == {0}
    assert reversal(undo, draft.kind, draft.key, draft.at).postings == draft.postings


# -- what is not an entry ------------------------------------------------------------------------------

ACCOUNTS = st.one_of(
    st.sampled_from(sorted(MERCHANT_PURPOSES)).flatmap(
        lambda purpose: ids("mch").map(lambda owner: Account(purpose, CURRENCY, owner))
    ),
    st.sampled_from(sorted(CHANNEL_PURPOSES)).flatmap(
        lambda purpose: ids("ca").map(lambda owner: Account(purpose, CURRENCY, owner))
    ),
    st.sampled_from(sorted(set(Purpose) - MERCHANT_PURPOSES - CHANNEL_PURPOSES)).map(
        lambda purpose: Account(purpose, CURRENCY)
    ),
)
NONZERO = st.integers(-MAX_AMOUNT, MAX_AMOUNT).filter(bool)


def draft_of(*postings: Posting, currency: str = CURRENCY) -> EntryDraft:
    return EntryDraft(EntryKind.PAYMENT_CAPTURED, "hand-made", currency, T0, tuple(postings))


def refused(draft: EntryDraft) -> str:
    with pytest.raises(LedgerRefused) as refusal:
        check_entry(draft)
    return refusal.value.code


@given(DRAFTS, ACCOUNTS, NONZERO)
def test_an_entry_that_does_not_balance_is_refused(draft: EntryDraft, account: Account, off: int) -> None:
    postings = (*draft.postings, Posting(account, off))
    # Off by as much as one of only two accounts moved, it moves one account: not an entry at all.
    expected = "entry_unbalanced" if len(merged(postings)) >= 2 else "entry_invalid"
    assert refused(draft_of(*postings)) == expected


@given(ACCOUNTS, ACCOUNTS, NONZERO)
def test_money_may_not_cross_between_the_memo_book_and_the_real_one(
    a: Account, b: Account, amount: int
) -> None:
    draft = draft_of(Posting(a, amount), Posting(b, -amount))
    if a.memo == b.memo and a != b:
        check_entry(draft)
    elif a.memo != b.memo:
        assert refused(draft) == "entry_unbalanced"


@given(DRAFTS, st.sampled_from(["USD", "EUR", "HKD", "cny"]), st.data())
def test_an_entry_with_a_posting_in_another_currency_is_refused(
    draft: EntryDraft, currency: str, data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, len(draft.postings) - 1))
    postings = list(draft.postings)
    p = postings[index]
    postings[index] = Posting(Account(p.account.purpose, currency, p.account.owner), p.amount)
    assert refused(draft_of(*postings)) == "entry_currency_mixed"
    # The entry's own currency against accounts in another one: refused just the same.
    assert refused(draft_of(*draft.postings, currency=currency)) == "entry_currency_mixed"


@given(ACCOUNTS, ACCOUNTS, st.integers(-MAX_AMOUNT, MAX_AMOUNT), st.lists(NONZERO, max_size=4))
def test_an_entry_moving_fewer_than_two_accounts_once_merged_is_refused(
    a: Account, b: Account, amount: int, back_and_forth: list[int]
) -> None:
    postings = [Posting(a, amount), Posting(a, -amount), Posting(b, 0)]
    postings += [Posting(b, x) for x in back_and_forth] + [Posting(b, -x) for x in back_and_forth]
    assert refused(draft_of(*postings)) == "entry_invalid"
    assert refused(draft_of()) == "entry_invalid"


@given(ACCOUNTS, ACCOUNTS, st.sampled_from([True, 1.0, "1"]))
def test_an_amount_that_is_not_an_integer_is_refused(a: Account, b: Account, amount: object) -> None:
    postings = [Posting(a, amount), Posting(b, -1)]  # type: ignore[arg-type]
    assert refused(draft_of(*postings)) == "entry_invalid"


# -- account ids ----------------------------------------------------------------------------------------


@given(ACCOUNTS)
def test_an_account_id_names_its_account(account: Account) -> None:
    assert parse_account_id(account.id) == account
    assert parse_account_id(account.id).id == account.id


def test_every_purpose_has_an_account_its_id_names() -> None:
    owners: dict[bool, Callable[[Purpose], str | None]] = {
        True: lambda purpose: "mch_1" if purpose in MERCHANT_PURPOSES else "ca_1",
        False: lambda purpose: None,
    }
    for purpose in Purpose:
        owned = purpose in MERCHANT_PURPOSES or purpose in CHANNEL_PURPOSES
        account = Account(purpose, CURRENCY, owners[owned](purpose))
        assert parse_account_id(account.id) == account


@given(
    st.one_of(
        st.text(max_size=30),
        ACCOUNTS.map(lambda a: a.id.replace(":", "/", 1)),
        ACCOUNTS.map(lambda a: a.id.replace("merchant:", "channel:").replace("channel:", "merchant:", 1)),
        ACCOUNTS.map(lambda a: a.id.replace("platform:", "merchant:mch_1:")),
    )
)
def test_what_is_no_account_id_is_refused(text: str) -> None:
    try:
        account = parse_account_id(text)
    except ValueError:
        return
    assert account.id == text
