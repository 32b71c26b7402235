"""EIDO references: a CAD's incident id kept beside the incident made from its EIDO.

Posting the same EIDO twice must not make two incidents, and an update must reach the
incident the first made (issue 19).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08 02:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "eido_references",
        sa.Column("eido_id", sa.String(length=255), nullable=False),
        sa.Column("incident_id", sa.String(length=64), nullable=False),
        sa.Column("client", sa.String(length=128), nullable=False),
        sa.Column("issuing_element", sa.String(length=255), nullable=False),
        sa.Column("apco_type", sa.String(length=32), nullable=True),
        sa.Column("last_update", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note_ids", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("eido_id"),
    )
    with op.batch_alter_table("eido_references", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_eido_references_incident_id"), ["incident_id"], unique=True
        )


def downgrade() -> None:
    with op.batch_alter_table("eido_references", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_eido_references_incident_id"))
    op.drop_table("eido_references")
