"""APCO disposition code at close: the code a CAD is sent, chosen by the closer.

Kept with the other outcome fields (issue 21), one nullable column: incidents closed
before it, or closed without one, carry the code their disposition maps to (issue 19).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08 03:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("incident_outcomes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("apco_disposition", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("incident_outcomes", schema=None) as batch_op:
        batch_op.drop_column("apco_disposition")
