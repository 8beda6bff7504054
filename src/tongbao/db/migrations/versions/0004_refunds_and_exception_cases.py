"""Refunds, exception-case history and policy, captured and refunded amounts on payments.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 11:43:23.041271
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exception_case_actions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("case_id", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["exception_cases.id"],
            name=op.f("fk_exception_case_actions_case_id_exception_cases"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exception_case_actions")),
    )
    with op.batch_alter_table("exception_case_actions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exception_case_actions_case_id"), ["case_id"], unique=False)

    op.create_table(
        "refunds",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("payment_id", sa.String(length=40), nullable=False),
        sa.Column("attempt_id", sa.String(length=40), nullable=False),
        sa.Column("merchant_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("app_id", sa.String(length=40), nullable=True),
        sa.Column("out_refund_no", sa.String(length=64), nullable=True),
        sa.Column("case_id", sa.String(length=40), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reason", sa.String(length=256), nullable=True),
        sa.Column("notify_url", sa.String(length=1024), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("channel_account_id", sa.String(length=40), nullable=False),
        sa.Column("channel_refund_no", sa.String(length=64), nullable=True),
        sa.Column("failure_reason", sa.String(length=500), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("queries_done", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["app_id"], ["apps.id"], name=op.f("fk_refunds_app_id_apps")),
        sa.ForeignKeyConstraint(
            ["attempt_id"], ["payment_attempts.id"], name=op.f("fk_refunds_attempt_id_payment_attempts")
        ),
        sa.ForeignKeyConstraint(
            ["channel_account_id"],
            ["channel_accounts.id"],
            name=op.f("fk_refunds_channel_account_id_channel_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_refunds_merchant_id_merchants")
        ),
        sa.ForeignKeyConstraint(["payment_id"], ["payments.id"], name=op.f("fk_refunds_payment_id_payments")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refunds")),
        sa.UniqueConstraint("app_id", "out_refund_no", name=op.f("uq_refunds_app_id_out_refund_no")),
    )
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_refunds_attempt_id"), ["attempt_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_refunds_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_refunds_merchant_id"), ["merchant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_refunds_payment_id"), ["payment_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_refunds_status"), ["status"], unique=False)

    with op.batch_alter_table("exception_cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("refund_id", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("resolution", sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f("ix_exception_cases_refund_id"), ["refund_id"], unique=False)

    with op.batch_alter_table("merchants", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "exception_policy",
                sa.String(length=16),
                server_default=sa.text("'auto_refund'"),
                nullable=False,
            )
        )

    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("captured_amount", sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column("refunded_amount", sa.BigInteger(), server_default=sa.text("0"), nullable=False)
        )
    # Payments captured before this revision took exactly what they asked for.
    op.execute("UPDATE payments SET captured_amount = amount WHERE captured_attempt_id IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_column("refunded_amount")
        batch_op.drop_column("captured_amount")

    with op.batch_alter_table("merchants", schema=None) as batch_op:
        batch_op.drop_column("exception_policy")

    with op.batch_alter_table("exception_cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exception_cases_refund_id"))
        batch_op.drop_column("resolution")
        batch_op.drop_column("refund_id")

    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refunds_status"))
        batch_op.drop_index(batch_op.f("ix_refunds_payment_id"))
        batch_op.drop_index(batch_op.f("ix_refunds_merchant_id"))
        batch_op.drop_index(batch_op.f("ix_refunds_case_id"))
        batch_op.drop_index(batch_op.f("ix_refunds_attempt_id"))

    op.drop_table("refunds")
    with op.batch_alter_table("exception_case_actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exception_case_actions_case_id"))

    op.drop_table("exception_case_actions")
