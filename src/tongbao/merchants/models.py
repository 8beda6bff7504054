"""Tables of the merchant side: merchants and their review history and documents, apps and their
secrets, channel accounts and which merchant uses which."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from tongbao.channels.account import AccountConfig
from tongbao.db.base import Base, UTCDateTime
from tongbao.merchants.domain.channel_accounts import credentials_context


class Merchant(Base):
    __tablename__ = "merchants"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    legal_name: Mapped[str] = mapped_column(String(200))
    business_license_no: Mapped[str | None] = mapped_column(String(64))
    contact_name: Mapped[str | None] = mapped_column(String(100))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    contact_phone: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    status_reason: Mapped[str | None] = mapped_column(String(500))
    # Payment methods an operator has switched on for this merchant.
    enabled_methods: Mapped[list[str]] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    # What to do with money captured twice or after close: auto_refund | hold_for_review.
    exception_policy: Mapped[str] = mapped_column(
        String(16), default="auto_refund", server_default=text("'auto_refund'")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class MerchantEvent(Base):
    """One review transition: who moved the merchant from what to what, when, and why."""

    __tablename__ = "merchant_events"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class MerchantDocument(Base):
    __tablename__ = "merchant_documents"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # A newer upload of the same kind replaces this one; the old file stays on record.
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class App(Base):
    __tablename__ = "apps"
    __table_args__ = (UniqueConstraint("merchant_id", "name"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    notify_url: Mapped[str | None] = mapped_column(String(1024))
    ip_allowlist: Mapped[list[str]] = mapped_column(JSON)
    rsa_public_key_pem: Mapped[str | None] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AppSecret(Base):
    """An app's HMAC secret, encrypted. Several are valid at once only during a rotation overlap."""

    __tablename__ = "app_secrets"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id"), index=True)
    secret_ciphertext: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ChannelAccount(Base):
    __tablename__ = "channel_accounts"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    mode: Mapped[str] = mapped_column(String(8))
    # The owner of an ``own`` account; NULL for the platform's ``shared`` accounts.
    merchant_id: Mapped[str | None] = mapped_column(ForeignKey("merchants.id"), index=True)
    base_url: Mapped[str] = mapped_column(String(512))
    config: Mapped[dict[str, str]] = mapped_column(JSON)
    credentials_ciphertext: Mapped[str] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean)
    # Limits in fen: per payment, and per business day (Beijing) across the account's payments.
    single_max_amount: Mapped[int | None] = mapped_column(BigInteger)
    daily_max_amount: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    def adapter_config(self) -> AccountConfig:
        """What the channel adapters are built from (they never see this row)."""
        return AccountConfig(
            id=self.id,
            channel=self.channel,
            base_url=self.base_url,
            config=dict(self.config),
            sealed_credentials=self.credentials_ciphertext,
            credentials_aad=credentials_context(self.id),
        )


class MerchantChannelBinding(Base):
    """Which channel account serves a merchant on a channel."""

    __tablename__ = "merchant_channel_bindings"

    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    channel_account_id: Mapped[str] = mapped_column(ForeignKey("channel_accounts.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
