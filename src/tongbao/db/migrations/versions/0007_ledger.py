"""The double-entry ledger: accounts, entries, postings, folded balances, the hash chain, fee plans
and channel-cost plans, and internal reconciliation (runs, differences).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 17:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def _plan_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("rate_bps", sa.String(24), nullable=False),
        sa.Column("minimum", sa.BigInteger(), nullable=False),
        sa.Column("cap", sa.BigInteger(), nullable=True),
        sa.Column("refund_mode", sa.String(16), nullable=False),
        sa.Column("effective_from", _TS, nullable=False),
        sa.Column("effective_to", _TS, nullable=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "ledger_accounts",
        sa.Column("id", sa.String(120), primary_key=True),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("merchant_id", sa.String(40), nullable=True, index=True),
        sa.Column("channel_account_id", sa.String(40), nullable=True, index=True),
        sa.Column("memo", sa.Boolean(), nullable=False),
        sa.Column("no_negative", sa.Boolean(), nullable=False),
        sa.Column("frozen", sa.Boolean(), nullable=False),
        sa.Column("frozen_reason", sa.String(200), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
    )
    op.create_table(
        "ledger_balances",
        sa.Column("account_id", sa.String(120), sa.ForeignKey("ledger_accounts.id"), primary_key=True),
        sa.Column("folded", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("commit_key", sa.BigInteger(), nullable=False, index=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("idempotency_key", sa.String(160), nullable=False, unique=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("merchant_id", sa.String(40), nullable=True),
        sa.Column("payment_id", sa.String(40), nullable=True, index=True),
        sa.Column("attempt_id", sa.String(40), nullable=True, index=True),
        sa.Column("refund_id", sa.String(40), nullable=True, index=True),
        sa.Column("case_id", sa.String(40), nullable=True),
        sa.Column("gross", sa.BigInteger(), nullable=False),
        sa.Column("fee", sa.BigInteger(), nullable=False),
        sa.Column("net", sa.BigInteger(), nullable=False),
        sa.Column("cost", sa.BigInteger(), nullable=False),
        sa.Column("memo", sa.String(200), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Index("ix_ledger_entries_merchant_id_created_at", "merchant_id", "created_at"),
    )
    op.create_table(
        "ledger_postings",
        sa.Column("entry_id", sa.String(40), sa.ForeignKey("ledger_entries.id"), primary_key=True),
        sa.Column("account_id", sa.String(120), sa.ForeignKey("ledger_accounts.id"), primary_key=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("commit_key", sa.BigInteger(), nullable=False),
        sa.Index("ix_ledger_postings_account_id_commit_key", "account_id", "commit_key"),
    )
    op.create_table(
        "ledger_watermarks",
        sa.Column("name", sa.String(16), primary_key=True),
        sa.Column("value", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "ledger_seals",
        sa.Column("chain_no", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("entry_id", sa.String(40), nullable=False, unique=True),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("block_no", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "ledger_blocks",
        sa.Column("block_no", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("first_chain_no", sa.BigInteger(), nullable=False),
        sa.Column("last_chain_no", sa.BigInteger(), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("through_key", sa.BigInteger(), nullable=False),
        sa.Column("sealed_at", _TS, nullable=False),
    )
    op.create_table(
        "fee_plans",
        *_plan_columns(),
        sa.Column("merchant_id", sa.String(40), sa.ForeignKey("merchants.id"), nullable=True, index=True),
        sa.Column("method", sa.String(32), nullable=False),
    )
    op.create_table(
        "channel_cost_plans",
        *_plan_columns(),
        sa.Column(
            "channel_account_id",
            sa.String(40),
            sa.ForeignKey("channel_accounts.id"),
            nullable=False,
            index=True,
        ),
    )
    op.create_table(
        "recon_internal_runs",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("business_date", sa.String(10), nullable=True, index=True),
        sa.Column("payments_checked", sa.Integer(), nullable=False),
        sa.Column("refunds_checked", sa.Integer(), nullable=False),
        sa.Column("entries_checked", sa.Integer(), nullable=False),
        sa.Column("differences", sa.Integer(), nullable=False),
        sa.Column("started_at", _TS, nullable=False),
        sa.Column("finished_at", _TS, nullable=False),
    )
    op.create_table(
        "recon_internal_differences",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column(
            "run_id", sa.String(40), sa.ForeignKey("recon_internal_runs.id"), nullable=False, index=True
        ),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("payment_id", sa.String(40), nullable=True, index=True),
        sa.Column("refund_id", sa.String(40), nullable=True),
        sa.Column("entry_id", sa.String(40), nullable=True),
        sa.Column("message", sa.String(500), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "recon_internal_differences",
        "recon_internal_runs",
        "channel_cost_plans",
        "fee_plans",
        "ledger_blocks",
        "ledger_seals",
        "ledger_watermarks",
        "ledger_postings",
        "ledger_entries",
        "ledger_balances",
        "ledger_accounts",
    ):
        op.drop_table(table)
