"""Telehealth sessions name the role they were opened for: the video clinician's, or the
on-scene unit's way into the same room (issue 16, item 7).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-08 02:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("telehealth_sessions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("role", sa.String(length=16), nullable=False, server_default="telehealth")
        )


def downgrade() -> None:
    with op.batch_alter_table("telehealth_sessions", schema=None) as batch_op:
        batch_op.drop_column("role")
