"""Units remember that their phone opted out of SMS (STOP).

dispatch learns it from notify's ``skipped`` notification status with error code
``opted_out``; such a unit is not offered automatically (its offer would never
arrive) and the unit board shows it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 23:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("sms_opted_out", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.drop_column("sms_opted_out")
