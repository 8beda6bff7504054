"""Posting rules: one pure function per business event, from the event's facts to the entry it
writes. Every movement of money in Tongbao is one of these.

Through a *shared* channel account the channel holds the money for the platform (channel
receivable), which owes it to the merchant (pending) less the plan's fee (fee revenue); the channel
keeps its own cost out of what it holds. Through the merchant's *own* account the money never
reaches the platform: the flow is written in the memo book, and the platform's fee is a receivable
from the merchant.

``Figures`` say what each entry means: for the merchant's entries (``MERCHANT_KINDS``) gross, fee
and net as the merchant reconciles them; for the others the amount captured or sent back (gross)
and the channel's cost. A capture nobody owns yet (a duplicate, a late or a mismatched one) waits in
suspense until it is taken by its payment or sent back to the payer.

A refund reserves its amount when it is opened (the merchant's pending less the fee it gives back,
or suspense), moves it to the payer when the channel settles it, and releases it when it fails.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from tongbao.ledger.domain.accounts import Account, Purpose, of_channel, of_merchant, platform
from tongbao.ledger.domain.entries import EntryDraft, EntryKind, Figures, Posting, Refs, reversal


@dataclass(frozen=True)
class Capture:
    """A channel's capture of an attempt, as the ledger needs it."""

    merchant_id: str
    payment_id: str
    attempt_id: str
    channel_account_id: str
    own: bool  # through the merchant's own channel account
    amount: int
    currency: str
    at: datetime
    case_id: str | None = None

    @property
    def refs(self) -> Refs:
        return Refs(self.merchant_id, self.payment_id, self.attempt_id, case_id=self.case_id)


@dataclass(frozen=True)
class RefundFacts:
    """A refund, as the ledger needs it. ``unowned``: it sends back a capture the merchant never
    owned (Tongbao's own refund of a duplicate, late or mismatched capture)."""

    refund_id: str
    merchant_id: str
    payment_id: str
    attempt_id: str
    channel_account_id: str
    own: bool
    unowned: bool
    amount: int
    currency: str
    at: datetime
    case_id: str | None = None

    @property
    def refs(self) -> Refs:
        return Refs(self.merchant_id, self.payment_id, self.attempt_id, self.refund_id, self.case_id)


def _held(own: bool, channel_account_id: str, currency: str) -> Account:
    """Where captured money sits: the channel receivable, or the own account's memo."""
    purpose = Purpose.MEMO_CHANNEL if own else Purpose.CHANNEL_RECEIVABLE
    return of_channel(channel_account_id, purpose, currency)


def _owed(own: bool, merchant_id: str, currency: str) -> Account:
    """What the merchant's money is owed on: pending, or the memo of what it holds itself."""
    return of_merchant(merchant_id, Purpose.MEMO_MERCHANT if own else Purpose.MERCHANT_PENDING, currency)


def _unowned(own: bool, currency: str) -> Account:
    """Where a capture nobody owns yet waits: suspense, or its memo."""
    return platform(Purpose.MEMO_SUSPENSE if own else Purpose.SUSPENSE, currency)


def _fee_payer(own: bool, merchant_id: str, currency: str) -> Account:
    """Whence the platform's fee comes: out of what it owes the merchant, or a receivable."""
    purpose = Purpose.MERCHANT_RECEIVABLE if own else Purpose.MERCHANT_PENDING
    return of_merchant(merchant_id, purpose, currency)


def _arrived(c: Capture, cost: int, to: Account) -> list[Posting]:
    """The capture's money arriving where it is held, owed to ``to``; the channel keeps its cost
    out of it (through a shared account: an own account's cost is the merchant's business)."""
    cur = c.currency
    held = _held(c.own, c.channel_account_id, cur)
    if c.own:
        return [Posting(held, c.amount), Posting(to, -c.amount)]
    return [
        Posting(held, c.amount - cost),
        Posting(platform(Purpose.CHANNEL_COST, cur), cost),
        Posting(to, -c.amount),
    ]


def _fee(merchant_id: str, own: bool, currency: str, fee: int) -> list[Posting]:
    return [
        Posting(_fee_payer(own, merchant_id, currency), fee),
        Posting(platform(Purpose.FEE_REVENUE, currency), -fee),
    ]


def payment_captured(c: Capture, *, fee: int, cost: int) -> EntryDraft:
    """A payment took its capture: owed to the merchant less the plan's fee."""
    cost = 0 if c.own else cost
    postings = _arrived(c, cost, _owed(c.own, c.merchant_id, c.currency))
    postings += _fee(c.merchant_id, c.own, c.currency, fee)
    return EntryDraft(
        kind=EntryKind.PAYMENT_CAPTURED,
        key=f"capture:{c.attempt_id}",
        currency=c.currency,
        at=c.at,
        postings=tuple(postings),
        refs=c.refs,
        figures=Figures(gross=c.amount, fee=fee, cost=cost),
    )


def capture_unowned(c: Capture, *, cost: int) -> EntryDraft:
    """A capture its payment could not take (a duplicate, a late or a mismatched one): it waits in
    suspense (through an own account, in the memo book)."""
    cost = 0 if c.own else cost
    to = _unowned(c.own, c.currency)
    return EntryDraft(
        kind=EntryKind.CAPTURE_UNOWNED,
        key=f"unowned:{c.attempt_id}",
        currency=c.currency,
        at=c.at,
        postings=tuple(_arrived(c, cost, to)),
        refs=c.refs,
        figures=Figures(cost=cost, gross=c.amount),
        memo="held in suspense until its payment takes it or it goes back",
    )


def capture_taken(c: Capture, *, fee: int, held: int) -> EntryDraft:
    """An unowned capture became its payment's (a late success reopened, a mismatch accepted): the
    ``held`` amount out of suspense, ``c.amount`` owed to the merchant less the fee. An operator may
    accept another amount the channel reported than the one held: what the channel holds is
    corrected by the difference."""
    cur = c.currency
    postings = [
        Posting(_unowned(c.own, cur), held),
        Posting(_held(c.own, c.channel_account_id, cur), c.amount - held),
        Posting(_owed(c.own, c.merchant_id, cur), -c.amount),
        *_fee(c.merchant_id, c.own, cur, fee),
    ]
    return EntryDraft(
        kind=EntryKind.CAPTURE_TAKEN,
        key=f"taken:{c.attempt_id}",
        currency=cur,
        at=c.at,
        postings=tuple(postings),
        refs=c.refs,
        figures=Figures(gross=c.amount, fee=fee),
    )


def _in_flight(own: bool, currency: str) -> Account:
    return platform(Purpose.MEMO_REFUNDS_IN_FLIGHT if own else Purpose.REFUNDS_IN_FLIGHT, currency)


def refund_reserved(r: RefundFacts, *, fee_back: int, n: int) -> EntryDraft:
    """A refund's amount set aside (the ``n``-th time: a contested refund is reserved again): out
    of what the merchant is owed, less the fee it gives back; or out of suspense."""
    cur = r.currency
    if r.unowned:
        fee_back = 0
        source = _unowned(r.own, cur)
    else:
        source = _owed(r.own, r.merchant_id, cur)
    postings = [Posting(source, r.amount), Posting(_in_flight(r.own, cur), -r.amount)]
    if fee_back:
        postings += _fee(r.merchant_id, r.own, cur, -fee_back)
    return EntryDraft(
        kind=EntryKind.REFUND_RESERVED,
        key=f"refund:{r.refund_id}:reserved:{n}",
        currency=cur,
        at=r.at,
        postings=tuple(postings),
        refs=r.refs,
        figures=Figures(gross=0 if r.unowned else -r.amount, fee=-fee_back),
    )


def refund_released(reservation: EntryDraft, *, fee_back: int, n: int, at: datetime) -> EntryDraft:
    """A reserved refund failed, or its contest was withdrawn: the reservation undone, except that it
    takes back ``fee_back`` of the fee (``FeeRule.taken_back``) rather than what the reservation gave.
    That was counted on top of the refunds live then; undone as it was, a refund failing after later
    ones were reserved could leave them carrying less than their share, and take the merchant's
    pending below what the payment brought it."""
    refund_id = reservation.refs.refund_id
    undone = reversal(reservation, EntryKind.REFUND_RELEASED, f"refund:{refund_id}:released:{n}", at)
    gave = -reservation.figures.fee
    if fee_back == gave:
        return undone
    merchant_id = reservation.refs.merchant_id
    assert merchant_id is not None
    own = any(p.account.purpose is Purpose.MEMO_REFUNDS_IN_FLIGHT for p in reservation.postings)
    correction = _fee(merchant_id, own, reservation.currency, fee_back - gave)
    return replace(
        undone,
        postings=undone.postings + tuple(correction),
        figures=replace(undone.figures, fee=fee_back),
    )


def refund_succeeded(r: RefundFacts, *, cost_back: int) -> EntryDraft:
    """The channel sent the reserved amount back to the payer, out of what it holds; through a
    shared account it gives back its share of the cost as well."""
    cur = r.currency
    cost_back = 0 if r.own else cost_back
    postings = [
        Posting(_in_flight(r.own, cur), r.amount),
        Posting(_held(r.own, r.channel_account_id, cur), -(r.amount - cost_back)),
        Posting(platform(Purpose.CHANNEL_COST, cur), -cost_back),
    ]
    return EntryDraft(
        kind=EntryKind.REFUND_SUCCEEDED,
        key=f"refund:{r.refund_id}:succeeded",
        currency=cur,
        at=r.at,
        postings=tuple(postings),
        refs=r.refs,
        figures=Figures(gross=-r.amount, cost=-cost_back),
    )
