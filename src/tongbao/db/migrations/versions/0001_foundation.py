"""foundation: merchants, apps, channel accounts, operators, request guards

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "idempotency_records",
        sa.Column("app_id", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_sha256", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("app_id", "key", name=op.f("pk_idempotency_records")),
    )
    with op.batch_alter_table("idempotency_records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_idempotency_records_expires_at"), ["expires_at"], unique=False)

    op.create_table(
        "merchants",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("legal_name", sa.String(length=200), nullable=False),
        sa.Column("business_license_no", sa.String(length=64), nullable=True),
        sa.Column("contact_name", sa.String(length=100), nullable=True),
        sa.Column("contact_email", sa.String(length=254), nullable=True),
        sa.Column("contact_phone", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_reason", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merchants")),
        sa.UniqueConstraint("name", name=op.f("uq_merchants_name")),
    )
    op.create_table(
        "operators",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operators")),
        sa.UniqueConstraint("name", name=op.f("uq_operators_name")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_operators_token_sha256")),
    )
    op.create_table(
        "request_nonces",
        sa.Column("app_id", sa.String(length=40), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("app_id", "nonce", name=op.f("pk_request_nonces")),
    )
    with op.batch_alter_table("request_nonces", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_request_nonces_expires_at"), ["expires_at"], unique=False)

    op.create_table(
        "apps",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("merchant_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("notify_url", sa.String(length=1024), nullable=True),
        sa.Column("ip_allowlist", sa.JSON(), nullable=False),
        sa.Column("rsa_public_key_pem", sa.Text(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_apps_merchant_id_merchants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_apps")),
        sa.UniqueConstraint("merchant_id", "name", name=op.f("uq_apps_merchant_id_name")),
    )
    with op.batch_alter_table("apps", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_apps_merchant_id"), ["merchant_id"], unique=False)

    op.create_table(
        "channel_accounts",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("merchant_id", sa.String(length=40), nullable=True),
        sa.Column("base_url", sa.String(length=512), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("credentials_ciphertext", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_channel_accounts_merchant_id_merchants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_accounts")),
        sa.UniqueConstraint("name", name=op.f("uq_channel_accounts_name")),
    )
    with op.batch_alter_table("channel_accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_channel_accounts_merchant_id"), ["merchant_id"], unique=False)

    op.create_table(
        "merchant_documents",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("merchant_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_merchant_documents_merchant_id_merchants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merchant_documents")),
    )
    with op.batch_alter_table("merchant_documents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_merchant_documents_merchant_id"), ["merchant_id"], unique=False)

    op.create_table(
        "merchant_events",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("merchant_id", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=False),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_merchant_events_merchant_id_merchants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merchant_events")),
    )
    with op.batch_alter_table("merchant_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_merchant_events_merchant_id"), ["merchant_id"], unique=False)

    op.create_table(
        "app_secrets",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("app_id", sa.String(length=40), nullable=False),
        sa.Column("secret_ciphertext", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["app_id"], ["apps.id"], name=op.f("fk_app_secrets_app_id_apps")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_secrets")),
    )
    with op.batch_alter_table("app_secrets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_app_secrets_app_id"), ["app_id"], unique=False)

    op.create_table(
        "merchant_channel_bindings",
        sa.Column("merchant_id", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("channel_account_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_account_id"],
            ["channel_accounts.id"],
            name=op.f("fk_merchant_channel_bindings_channel_account_id_channel_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_merchant_channel_bindings_merchant_id_merchants")
        ),
        sa.PrimaryKeyConstraint("merchant_id", "channel", name=op.f("pk_merchant_channel_bindings")),
    )
    with op.batch_alter_table("merchant_channel_bindings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_merchant_channel_bindings_channel_account_id"),
            ["channel_account_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("merchant_channel_bindings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_merchant_channel_bindings_channel_account_id"))

    op.drop_table("merchant_channel_bindings")
    with op.batch_alter_table("app_secrets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_app_secrets_app_id"))

    op.drop_table("app_secrets")
    with op.batch_alter_table("merchant_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_merchant_events_merchant_id"))

    op.drop_table("merchant_events")
    with op.batch_alter_table("merchant_documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_merchant_documents_merchant_id"))

    op.drop_table("merchant_documents")
    with op.batch_alter_table("channel_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_channel_accounts_merchant_id"))

    op.drop_table("channel_accounts")
    with op.batch_alter_table("apps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_apps_merchant_id"))

    op.drop_table("apps")
    with op.batch_alter_table("request_nonces", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_request_nonces_expires_at"))

    op.drop_table("request_nonces")
    op.drop_table("operators")
    op.drop_table("merchants")
    with op.batch_alter_table("idempotency_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idempotency_records_expires_at"))

    op.drop_table("idempotency_records")
