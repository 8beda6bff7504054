"""A refund's contested success (the amount stays reserved), and one exception case per kind and
attempt or refund, enforced by the database instead of a check before the insert.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contested_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("exception_cases", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            batch_op.f("uq_exception_cases_kind_attempt_id"), ["kind", "attempt_id"]
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_exception_cases_kind_refund_id"), ["kind", "refund_id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("exception_cases", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_exception_cases_kind_refund_id"), type_="unique")
        batch_op.drop_constraint(batch_op.f("uq_exception_cases_kind_attempt_id"), type_="unique")
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.drop_column("contested_at")
