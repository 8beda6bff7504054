"""Tables of payments and their channel attempts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from tongbao.db.base import Base, UTCDateTime


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (UniqueConstraint("app_id", "out_trade_no"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id"), index=True)
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id"))
    out_trade_no: Mapped[str] = mapped_column(String(64))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    subject: Mapped[str] = mapped_column(String(128))
    # The method the merchant asked for; NULL means the payer picks one at the cashier.
    method: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(24), index=True)
    notify_url: Mapped[str | None] = mapped_column(String(1024))
    return_url: Mapped[str | None] = mapped_column(String(1024))
    client_ip: Mapped[str | None] = mapped_column(String(64))
    payer_openid: Mapped[str | None] = mapped_column(String(128))
    extra: Mapped[dict[str, Any]] = mapped_column("metadata", JSON)
    # SHA-256 of the creation parameters: the same out_trade_no with other parameters is a conflict.
    fingerprint: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    # The attempt that captured the money, and what it reported.
    captured_attempt_id: Mapped[str | None] = mapped_column(String(40))
    channel: Mapped[str | None] = mapped_column(String(16))
    channel_account_id: Mapped[str | None] = mapped_column(String(40))
    account_mode: Mapped[str | None] = mapped_column(String(8))
    channel_trade_no: Mapped[str | None] = mapped_column(String(64))
    # What the capturing attempt took (the amount asked for, unless an operator accepted another),
    # and the sum of the succeeded refunds of that capture.
    captured_amount: Mapped[int | None] = mapped_column(BigInteger)
    refunded_amount: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    # Since when a capture of another amount holds the payment for review (NULL: not held).
    held_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    succeeded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PaymentAttempt(Base):
    """One order at one channel for a payment. Its id is the order number the channel sees."""

    __tablename__ = "payment_attempts"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    payment_id: Mapped[str] = mapped_column(ForeignKey("payments.id"), index=True)
    method: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    channel_account_id: Mapped[str] = mapped_column(ForeignKey("channel_accounts.id"), index=True)
    account_mode: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    # The front-end action the channel gave back; NULL while creation's outcome is unknown.
    action: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    channel_trade_no: Mapped[str | None] = mapped_column(String(64))
    paid_amount: Mapped[int | None] = mapped_column(BigInteger)
    queries_done: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
