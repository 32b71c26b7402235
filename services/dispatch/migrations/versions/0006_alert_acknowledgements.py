"""Alerts are acknowledged (who, when) and clear themselves when their condition ends.

``subject`` says what within the incident an alert is about (a role, a handoff),
so filling that role or placing that handoff clears it; ``cleared_at`` takes it
off the open list.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08 02:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subject", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("acknowledged_by", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("cleared_reason", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_alerts_cleared_at"), ["cleared_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alerts_cleared_at"))
        batch_op.drop_column("cleared_reason")
        batch_op.drop_column("cleared_at")
        batch_op.drop_column("acknowledged_at")
        batch_op.drop_column("acknowledged_by")
        batch_op.drop_column("subject")
