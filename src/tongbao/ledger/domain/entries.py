"""Journal entries as posting rules draft them, and what the ledger refuses in one. Plain Python.

An entry is two or more postings, one account each, that sum to zero per currency, and separately
in the memo book and the real one (a memo flow never pays for a real one). It names the business
event it records (payment, attempt, refund, case) and carries an idempotency key: the same event
posted twice is posted once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from tongbao.ledger.domain.accounts import Account
from tongbao.rules import Refused


class EntryKind(StrEnum):
    PAYMENT_CAPTURED = "payment_captured"  # a payment took its capture
    CAPTURE_UNOWNED = "capture_unowned"  # a capture nobody owns yet: duplicate, late, mismatched
    CAPTURE_TAKEN = "capture_taken"  # an unowned capture became the payment's (late reopened, accepted)
    REFUND_RESERVED = "refund_reserved"  # a refund's amount set aside until the channel settles it
    REFUND_RELEASED = "refund_released"  # a reserved refund failed (or its contest was withdrawn)
    REFUND_SUCCEEDED = "refund_succeeded"  # the money went back to the payer


# The entries a merchant reconciles against: each moves what it is owed or owes.
MERCHANT_KINDS = frozenset(
    {
        EntryKind.PAYMENT_CAPTURED,
        EntryKind.CAPTURE_TAKEN,
        EntryKind.REFUND_RESERVED,
        EntryKind.REFUND_RELEASED,
    }
)


class LedgerRefused(Refused):
    """The ledger itself refuses an entry: the business transaction that caused it rolls back."""


@dataclass(frozen=True)
class Posting:
    account: Account
    amount: int  # signed minor units: a debit is positive


@dataclass(frozen=True)
class Figures:
    """What an entry means to the merchant and the platform, signed from the merchant's side:
    ``gross`` moved, ``fee`` charged (negative: returned), ``net`` = gross − fee, and the channel's
    ``cost`` to the platform (negative: returned)."""

    gross: int = 0
    fee: int = 0
    cost: int = 0

    @property
    def net(self) -> int:
        return self.gross - self.fee


@dataclass(frozen=True)
class Refs:
    merchant_id: str | None = None
    payment_id: str | None = None
    attempt_id: str | None = None
    refund_id: str | None = None
    case_id: str | None = None


@dataclass(frozen=True)
class EntryDraft:
    kind: EntryKind
    key: str
    currency: str
    at: datetime
    postings: tuple[Posting, ...]
    refs: Refs = field(default_factory=Refs)
    figures: Figures = field(default_factory=Figures)
    memo: str = ""


def merged(postings: tuple[Posting, ...] | list[Posting]) -> tuple[Posting, ...]:
    """One posting per account (several moves of one account in one entry add up), zeros dropped,
    in account order."""
    sums: dict[Account, int] = defaultdict(int)
    for posting in postings:
        sums[posting.account] += posting.amount
    return tuple(Posting(account, amount) for account, amount in sorted(sums.items()) if amount != 0)


def check_entry(draft: EntryDraft) -> tuple[Posting, ...]:
    """The postings the entry writes, or ``LedgerRefused`` when it is not an entry at all."""
    for posting in draft.postings:
        if type(posting.amount) is not int:
            raise LedgerRefused("entry_invalid", None, "posting amounts are integers of minor units")
        if posting.account.currency != draft.currency:
            raise LedgerRefused(
                "entry_currency_mixed",
                None,
                f"entry {draft.key} is in {draft.currency}; account {posting.account.id} is not",
            )
    postings = merged(draft.postings)
    if len(postings) < 2:
        raise LedgerRefused("entry_invalid", None, f"entry {draft.key} moves fewer than two accounts")
    for memo in (False, True):
        total = sum(p.amount for p in postings if p.account.memo is memo)
        if total != 0:
            book = "memo" if memo else "real"
            raise LedgerRefused(
                "entry_unbalanced", None, f"entry {draft.key}: the {book} postings sum to {total}, not 0"
            )
    return postings


def reversal(original: EntryDraft, kind: EntryKind, key: str, at: datetime) -> EntryDraft:
    """The entry that undoes ``original``: every posting negated, the figures too."""
    return EntryDraft(
        kind=kind,
        key=key,
        currency=original.currency,
        at=at,
        postings=tuple(Posting(p.account, -p.amount) for p in original.postings),
        refs=original.refs,
        figures=Figures(-original.figures.gross, -original.figures.fee, -original.figures.cost),
        memo=f"reverses {original.key}",
    )
