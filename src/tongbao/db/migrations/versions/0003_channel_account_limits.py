"""Per-payment and daily limits on channel accounts.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 10:33:01.341336
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("channel_accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("single_max_amount", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("daily_max_amount", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("channel_accounts", schema=None) as batch_op:
        batch_op.drop_column("daily_max_amount")
        batch_op.drop_column("single_max_amount")
