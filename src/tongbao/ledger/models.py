"""Tables of the ledger: accounts, entries and postings (written once, never changed), folded
balances, the hash chain's seals and blocks, and the fee and channel-cost plans.

``commit_key`` orders entries by when they became visible, not by when they were begun: on
PostgreSQL the writing transaction's id, on SQLite (one writer at a time) one more than the
largest key so far. Every key below the *watermark* (``watermarks``) belongs to a finished
transaction, so that the balance folder and the chain sealer never miss an entry that commits late.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from tongbao.db.base import Base, UTCDateTime


class DecimalText(TypeDecorator[Decimal]):
    """A ``Decimal`` kept exactly as its text on every database (rates in basis points)."""

    impl = String(24)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> str | None:
        return None if value is None else str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


class LedgerAccount(Base):
    __tablename__ = "ledger_accounts"

    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(32))
    type: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    merchant_id: Mapped[str | None] = mapped_column(String(40), index=True)
    channel_account_id: Mapped[str | None] = mapped_column(String(40), index=True)
    memo: Mapped[bool] = mapped_column(Boolean)
    no_negative: Mapped[bool] = mapped_column(Boolean)
    frozen: Mapped[bool] = mapped_column(Boolean, default=False)
    frozen_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LedgerBalance(Base):
    """The sum of an account's postings folded so far (signed: debits positive); the O(1) balance
    adds the postings committed since the last fold."""

    __tablename__ = "ledger_balances"

    account_id: Mapped[str] = mapped_column(ForeignKey("ledger_accounts.id"), primary_key=True)
    folded: Mapped[int] = mapped_column(BigInteger)


class LedgerEntry(Base):
    __tablename__ = "ledger_entries"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    commit_key: Mapped[int] = mapped_column(BigInteger, index=True)
    kind: Mapped[str] = mapped_column(String(32))
    idempotency_key: Mapped[str] = mapped_column(String(160), unique=True)
    currency: Mapped[str] = mapped_column(String(3))
    merchant_id: Mapped[str | None] = mapped_column(String(40))
    payment_id: Mapped[str | None] = mapped_column(String(40), index=True)
    attempt_id: Mapped[str | None] = mapped_column(String(40), index=True)
    refund_id: Mapped[str | None] = mapped_column(String(40), index=True)
    case_id: Mapped[str | None] = mapped_column(String(40))
    gross: Mapped[int] = mapped_column(BigInteger)
    fee: Mapped[int] = mapped_column(BigInteger)
    net: Mapped[int] = mapped_column(BigInteger)
    cost: Mapped[int] = mapped_column(BigInteger)
    memo: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_ledger_entries_merchant_id_created_at", "merchant_id", "created_at"),)


class LedgerPosting(Base):
    __tablename__ = "ledger_postings"

    entry_id: Mapped[str] = mapped_column(ForeignKey("ledger_entries.id"), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("ledger_accounts.id"), primary_key=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    commit_key: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_ledger_postings_account_id_commit_key", "account_id", "commit_key"),)


class LedgerWatermark(Base):
    """How far the folder (``folded``) and the sealer (``sealed``) have gone: every commit key
    below ``value`` is done."""

    __tablename__ = "ledger_watermarks"

    name: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class LedgerSeal(Base):
    """An entry's place in the hash chain: the hash of the one before it and its canonical form.
    No foreign key to the entry: a deleted entry must leave its seal behind to be found."""

    __tablename__ = "ledger_seals"

    chain_no: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    entry_id: Mapped[str] = mapped_column(String(40), unique=True)
    hash: Mapped[str] = mapped_column(String(64))
    block_no: Mapped[int] = mapped_column(BigInteger)


class LedgerBlock(Base):
    """One run of the sealer: the seals it added; ``hash`` is the chain's head after them."""

    __tablename__ = "ledger_blocks"

    block_no: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    first_chain_no: Mapped[int] = mapped_column(BigInteger)
    last_chain_no: Mapped[int] = mapped_column(BigInteger)
    entries: Mapped[int] = mapped_column(Integer)
    through_key: Mapped[int] = mapped_column(BigInteger)
    sealed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class _Plan:
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    rate_bps: Mapped[Decimal] = mapped_column(DecimalText())
    minimum: Mapped[int] = mapped_column(BigInteger)
    cap: Mapped[int | None] = mapped_column(BigInteger)
    refund_mode: Mapped[str] = mapped_column(String(16))
    effective_from: Mapped[datetime] = mapped_column(UTCDateTime())
    effective_to: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class FeePlan(_Plan, Base):
    """What the platform charges a merchant per method (``merchant_id`` NULL: the platform's default)."""

    __tablename__ = "fee_plans"

    merchant_id: Mapped[str | None] = mapped_column(ForeignKey("merchants.id"), index=True)
    method: Mapped[str] = mapped_column(String(32))


class ChannelCostPlan(_Plan, Base):
    """What a channel account's channel charges the platform per capture."""

    __tablename__ = "channel_cost_plans"

    channel_account_id: Mapped[str] = mapped_column(ForeignKey("channel_accounts.id"), index=True)


def _written_once(mapper: Any, connection: Any, target: Any) -> None:
    raise RuntimeError(f"{type(target).__name__} rows are written once: correct with a reversing entry")


for _model in (LedgerEntry, LedgerPosting, LedgerSeal, LedgerBlock):
    event.listen(_model, "before_update", _written_once)
    event.listen(_model, "before_delete", _written_once)


class InternalReconRun(Base):
    """One comparison of the trade records with the journal, for a business date (or all time)."""

    __tablename__ = "recon_internal_runs"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    business_date: Mapped[str | None] = mapped_column(String(10), index=True)
    payments_checked: Mapped[int] = mapped_column(Integer)
    refunds_checked: Mapped[int] = mapped_column(Integer)
    entries_checked: Mapped[int] = mapped_column(Integer)
    differences: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime())


class InternalDifference(Base):
    """What a run found: a trade record without its entry, an entry without its event, or figures
    that disagree."""

    __tablename__ = "recon_internal_differences"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("recon_internal_runs.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    payment_id: Mapped[str | None] = mapped_column(String(40), index=True)
    refund_id: Mapped[str | None] = mapped_column(String(40))
    entry_id: Mapped[str | None] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
