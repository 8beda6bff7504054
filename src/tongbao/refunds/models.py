"""The refunds table: money going back on one channel capture (one payment attempt)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tongbao.db.base import Base, UTCDateTime


class Refund(Base):
    __tablename__ = "refunds"
    __table_args__ = (UniqueConstraint("app_id", "out_refund_no"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # also the channel-side refund number
    payment_id: Mapped[str] = mapped_column(ForeignKey("payments.id"), index=True)
    # The capture the money goes back from: the payment's own, or an extra one (a duplicate payment).
    attempt_id: Mapped[str] = mapped_column(ForeignKey("payment_attempts.id"), index=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id"), index=True)
    # merchant: asked for through the API; duplicate_capture / late_capture / amount_mismatch: Tongbao
    # gives back a capture the merchant never owned (no app, no out_refund_no, no merchant notification).
    kind: Mapped[str] = mapped_column(String(24))
    app_id: Mapped[str | None] = mapped_column(ForeignKey("apps.id"))
    out_refund_no: Mapped[str | None] = mapped_column(String(64))
    case_id: Mapped[str | None] = mapped_column(String(40), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str | None] = mapped_column(String(256))
    notify_url: Mapped[str | None] = mapped_column(String(1024))
    # SHA-256 of the request: the same out_refund_no with other parameters is a conflict.
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    channel_account_id: Mapped[str] = mapped_column(ForeignKey("channel_accounts.id"))
    channel_refund_no: Mapped[str | None] = mapped_column(String(64))
    failure_reason: Mapped[str | None] = mapped_column(String(500))
    last_error: Mapped[str | None] = mapped_column(String(500))
    # When the channel was first asked; NULL: it may never have heard of the refund.
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    queries_done: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A failed refund the channel later reported succeeded: its amount stays reserved (it may have
    # gone back after all) until an operator decides which word was true.
    contested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
