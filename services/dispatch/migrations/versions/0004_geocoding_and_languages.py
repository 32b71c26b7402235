"""Offline geocoding and languages (issue 16, items 8 and 9): the address points a
jurisdiction imports, and the caller's language on the incident.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-08 02:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "address_points",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dataset", sa.String(length=128), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("number_value", sa.Integer(), nullable=True),
        sa.Column("street", sa.String(length=200), nullable=False),
        sa.Column("street_key", sa.String(length=200), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("city_key", sa.String(length=100), nullable=True),
        sa.Column("district", sa.String(length=100), nullable=True),
        sa.Column("region", sa.String(length=100), nullable=True),
        sa.Column("postcode", sa.String(length=16), nullable=True),
        sa.Column("source_id", sa.String(length=64), nullable=True),
        sa.Column("source_hash", sa.String(length=64), nullable=True),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("address_points", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_address_points_dataset"), ["dataset"], unique=False)
        batch_op.create_index(
            "ix_address_points_street_key_number", ["street_key", "number_value"], unique=False
        )

    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=35), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_column("language")

    with op.batch_alter_table("address_points", schema=None) as batch_op:
        batch_op.drop_index("ix_address_points_street_key_number")
        batch_op.drop_index(batch_op.f("ix_address_points_dataset"))

    op.drop_table("address_points")
