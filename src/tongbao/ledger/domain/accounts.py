"""The chart of accounts. Plain Python, no I/O.

An account's id says what it is (``merchant:mch_…:pending:CNY``), so that a posting rule names the
accounts it moves without asking the database; the ledger creates an account the first time it is
posted to and never deletes one. Amounts on postings are signed: a debit is positive, a credit
negative, and an entry's postings sum to zero. An account's *balance* is shown on its normal side:
assets and expenses as Σ postings, liabilities and revenue as −Σ postings.

Memo accounts record money that never is in the platform's hands (payments through a merchant's own
channel account): the journal shows every fen of it, in a book of its own that balances by itself
and creates no liability to anyone.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class AccountType(StrEnum):
    ASSET = "asset"
    LIABILITY = "liability"
    REVENUE = "revenue"
    EXPENSE = "expense"

    @property
    def debit_normal(self) -> bool:
        return self in (AccountType.ASSET, AccountType.EXPENSE)


class Purpose(StrEnum):
    CHANNEL_RECEIVABLE = "channel_receivable"  # money a shared channel account holds for the platform
    PLATFORM_BANK = "platform_bank"
    MERCHANT_PENDING = "pending"  # owed to the merchant, not yet matured
    MERCHANT_AVAILABLE = "available"
    MERCHANT_RESERVE = "reserve"
    MERCHANT_RECEIVABLE = "merchant_receivable"  # what the merchant owes the platform (own-account fees)
    FEE_REVENUE = "fee_revenue"
    CHANNEL_COST = "channel_cost"
    REFUNDS_IN_FLIGHT = "refunds_in_flight"  # reserved for refunds the channel has not settled
    SUSPENSE = "suspense"  # captures nobody owns yet (duplicates, late, mismatched), differences
    PAYOUTS_IN_FLIGHT = "payouts_in_flight"
    # The memo book: an own channel account's takings, what the merchant holds, refunds in flight, and
    # captures nobody owns yet.
    MEMO_CHANNEL = "memo_channel"
    MEMO_MERCHANT = "memo_merchant"
    MEMO_REFUNDS_IN_FLIGHT = "memo_refunds_in_flight"
    MEMO_SUSPENSE = "memo_suspense"  # captures in own accounts that nobody owns yet


_TYPES: dict[Purpose, AccountType] = {
    Purpose.CHANNEL_RECEIVABLE: AccountType.ASSET,
    Purpose.PLATFORM_BANK: AccountType.ASSET,
    Purpose.MERCHANT_PENDING: AccountType.LIABILITY,
    Purpose.MERCHANT_AVAILABLE: AccountType.LIABILITY,
    Purpose.MERCHANT_RESERVE: AccountType.LIABILITY,
    Purpose.MERCHANT_RECEIVABLE: AccountType.ASSET,
    Purpose.FEE_REVENUE: AccountType.REVENUE,
    Purpose.CHANNEL_COST: AccountType.EXPENSE,
    Purpose.REFUNDS_IN_FLIGHT: AccountType.LIABILITY,
    Purpose.SUSPENSE: AccountType.LIABILITY,
    Purpose.PAYOUTS_IN_FLIGHT: AccountType.LIABILITY,
    Purpose.MEMO_CHANNEL: AccountType.ASSET,
    Purpose.MEMO_MERCHANT: AccountType.LIABILITY,
    Purpose.MEMO_REFUNDS_IN_FLIGHT: AccountType.LIABILITY,
    Purpose.MEMO_SUSPENSE: AccountType.LIABILITY,
}
_MEMO = frozenset(
    {Purpose.MEMO_CHANNEL, Purpose.MEMO_MERCHANT, Purpose.MEMO_REFUNDS_IN_FLIGHT, Purpose.MEMO_SUSPENSE}
)
# Accounts whose balance may never fall below zero: what is owed to merchants, and money reserved.
_NO_NEGATIVE = frozenset(
    {
        Purpose.MERCHANT_PENDING,
        Purpose.MERCHANT_AVAILABLE,
        Purpose.MERCHANT_RESERVE,
        Purpose.REFUNDS_IN_FLIGHT,
        Purpose.PAYOUTS_IN_FLIGHT,
        Purpose.MEMO_REFUNDS_IN_FLIGHT,
    }
)
_MERCHANT = frozenset(
    {
        Purpose.MERCHANT_PENDING,
        Purpose.MERCHANT_AVAILABLE,
        Purpose.MERCHANT_RESERVE,
        Purpose.MERCHANT_RECEIVABLE,
        Purpose.MEMO_MERCHANT,
    }
)
_CHANNEL = frozenset({Purpose.CHANNEL_RECEIVABLE, Purpose.MEMO_CHANNEL})


@dataclass(frozen=True, order=True)
class Account:
    """One account of the chart: its purpose, whose it is (a merchant, a channel account, or the
    platform) and its currency."""

    purpose: Purpose
    currency: str
    owner: str | None = None

    def __post_init__(self) -> None:
        needs_owner = self.purpose in _MERCHANT or self.purpose in _CHANNEL
        if needs_owner != (self.owner is not None):
            raise ValueError(f"a {self.purpose} account {'needs' if needs_owner else 'has no'} owner")

    @property
    def id(self) -> str:
        if self.purpose in _MERCHANT:
            return f"merchant:{self.owner}:{self.purpose}:{self.currency}"
        if self.purpose in _CHANNEL:
            return f"channel:{self.owner}:{self.purpose}:{self.currency}"
        return f"platform:{self.purpose}:{self.currency}"

    @property
    def type(self) -> AccountType:
        return _TYPES[self.purpose]

    @property
    def memo(self) -> bool:
        return self.purpose in _MEMO

    @property
    def no_negative(self) -> bool:
        return self.purpose in _NO_NEGATIVE

    @property
    def merchant_id(self) -> str | None:
        return self.owner if self.purpose in _MERCHANT else None

    @property
    def channel_account_id(self) -> str | None:
        return self.owner if self.purpose in _CHANNEL else None

    def balance_of(self, signed_sum: int) -> int:
        """Σ of the account's signed postings, on its normal side."""
        return signed_sum if self.type.debit_normal else -signed_sum


def platform(purpose: Purpose, currency: str) -> Account:
    return Account(purpose, currency)


def of_merchant(merchant_id: str, purpose: Purpose, currency: str) -> Account:
    return Account(purpose, currency, merchant_id)


def of_channel(channel_account_id: str, purpose: Purpose, currency: str) -> Account:
    return Account(purpose, currency, channel_account_id)


def parse_account_id(account_id: str) -> Account:
    """The account an id names; ``ValueError`` when it names none (``channel:mch_1:pending:CNY``
    too: a merchant's purpose under a channel's prefix is no account's id)."""
    parts = account_id.split(":")
    account: Account | None = None
    try:
        if parts[0] in ("merchant", "channel") and len(parts) == 4:
            account = Account(Purpose(parts[2]), parts[3], parts[1])
        elif parts[0] == "platform" and len(parts) == 3:
            account = Account(Purpose(parts[1]), parts[2])
    except ValueError:
        pass
    if account is None or account.id != account_id:
        raise ValueError(f"not an account id: {account_id!r}")
    return account
