"""Units serve an area (jurisdiction, optional GeoJSON polygon); assignments say mutual aid.

A unit outside the incident's area is offered only as mutual aid (when no home
unit is within the policy's maximum ETA); the assignment keeps that flag so the
incident and the offer say so. Units with no area (every unit before this
revision) are home everywhere, so existing rosters rank as before.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08 02:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.add_column(sa.Column("jurisdiction", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("service_area", sa.JSON(), nullable=True))
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("mutual_aid", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_column("mutual_aid")
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.drop_column("service_area")
        batch_op.drop_column("jurisdiction")
