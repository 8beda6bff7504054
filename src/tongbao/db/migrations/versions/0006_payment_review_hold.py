"""A payment held for review records it on itself (``held_since``), instead of its closing asking
the exception cases: payments no longer read the cases' table. Payments with an open amount-mismatch
case are held from the case's opening.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("held_since", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE payments SET held_since = ("
        " SELECT MIN(c.created_at) FROM exception_cases c"
        " WHERE c.payment_id = payments.id AND c.kind = 'amount_mismatch' AND c.status = 'open')"
        " WHERE EXISTS ("
        " SELECT 1 FROM exception_cases c"
        " WHERE c.payment_id = payments.id AND c.kind = 'amount_mismatch' AND c.status = 'open')"
    )


def downgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_column("held_since")
