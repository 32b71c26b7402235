"""Reconciliation: the outbox remembers which event each row answers (``cause_id``)
and how often it was re-sent (``resends``).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07 22:53:35.316727
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cause_id", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("resends", sa.Integer(), nullable=False, server_default="0"))
        batch_op.create_index(batch_op.f("ix_outbox_cause_id"), ["cause_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_cause_id"))
        batch_op.drop_column("resends")
        batch_op.drop_column("cause_id")
