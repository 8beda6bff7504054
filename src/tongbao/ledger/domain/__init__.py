"""The ledger's rules: the chart of accounts, entries, clearing and the posting rules. No I/O."""

from tongbao.ledger.domain.accounts import Account, AccountType, Purpose, parse_account_id
from tongbao.ledger.domain.entries import (
    MERCHANT_KINDS,
    EntryDraft,
    EntryKind,
    Figures,
    LedgerRefused,
    Posting,
    Refs,
    check_entry,
)
from tongbao.ledger.domain.fees import ZERO, FeePlanInvalid, FeeRule, RefundMode

__all__ = [
    "MERCHANT_KINDS",
    "ZERO",
    "Account",
    "AccountType",
    "EntryDraft",
    "EntryKind",
    "FeePlanInvalid",
    "FeeRule",
    "Figures",
    "LedgerRefused",
    "Posting",
    "Purpose",
    "Refs",
    "RefundMode",
    "check_entry",
    "parse_account_id",
]
