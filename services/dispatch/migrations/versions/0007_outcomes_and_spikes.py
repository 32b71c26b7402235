"""Outcome fields given at close (one row per incident) and overdose spike records (issue 21).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08 02:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "incident_outcomes",
        sa.Column("incident_id", sa.String(length=64), nullable=False),
        sa.Column("naloxone_doses", sa.Integer(), nullable=True),
        sa.Column("transported", sa.Boolean(), nullable=True),
        sa.Column("transported_to", sa.Text(), nullable=True),
        sa.Column("referred_provider_id", sa.String(length=64), nullable=True),
        sa.Column("arrest", sa.Boolean(), nullable=True),
        sa.Column("follow_up_outcome", sa.String(length=24), nullable=True),
        sa.Column("fatal_overdose", sa.Boolean(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"]),
        sa.PrimaryKeyConstraint("incident_id"),
    )
    op.create_table(
        "spikes",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("jurisdiction", sa.String(length=64), nullable=False),
        sa.Column("area_key", sa.String(length=96), nullable=False),
        sa.Column("area_desc", sa.String(length=160), nullable=False),
        sa.Column("geometry", sa.JSON(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("basis", sa.String(length=16), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("clears_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("alert_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("spikes", schema=None) as batch_op:
        batch_op.create_index(
            "uq_spikes_open_area",
            ["area_key"],
            unique=True,
            sqlite_where=sa.text("cleared_at IS NULL"),
            postgresql_where=sa.text("cleared_at IS NULL"),
        )
        batch_op.create_index(batch_op.f("ix_spikes_raised_at"), ["raised_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("spikes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_spikes_raised_at"))
        batch_op.drop_index(
            "uq_spikes_open_area",
            sqlite_where=sa.text("cleared_at IS NULL"),
            postgresql_where=sa.text("cleared_at IS NULL"),
        )
    op.drop_table("spikes")
    op.drop_table("incident_outcomes")
