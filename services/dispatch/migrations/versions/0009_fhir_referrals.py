"""Warm handoffs as FHIR referrals (issue 20): a Task per provider asked, provider clients.

``referral_tasks`` holds each FHIR Task, of a handoff (the ServiceRequest is the handoff
itself) or of a post-overdose follow-up visit (the ServiceRequest is the visit's incident);
``clients.organization`` ties a provider's system to its own Tasks; ``providers.public_phone``
is the HSDS phone a directory publishes, apart from the on-call number corespond texts.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08 02:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "referral_tasks",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("handoff_id", sa.String(length=64), nullable=True),
        sa.Column("incident_id", sa.String(length=64), nullable=False),
        sa.Column("provider_id", sa.String(length=64), nullable=True),
        sa.Column("owner_id", sa.String(length=64), nullable=False),
        sa.Column("owner_name", sa.String(length=120), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("authored_on", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_modified", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["handoff_id"], ["handoffs.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("referral_tasks", schema=None) as batch_op:
        batch_op.create_index("ix_referral_tasks_handoff_id", ["handoff_id"], unique=False)
        batch_op.create_index("ix_referral_tasks_incident_id", ["incident_id"], unique=False)
        batch_op.create_index("ix_referral_tasks_owner_id", ["owner_id"], unique=False)
        batch_op.create_index("ix_referral_tasks_status", ["status"], unique=False)
        batch_op.create_index("ix_referral_tasks_last_modified", ["last_modified"], unique=False)
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("organization", sa.String(length=120), nullable=True))
    with op.batch_alter_table("providers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("public_phone", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("providers", schema=None) as batch_op:
        batch_op.drop_column("public_phone")
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.drop_column("organization")
    op.drop_table("referral_tasks")
