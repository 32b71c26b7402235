"""An admin's password (a new account, a reset) must be changed at the first sign-in.

``must_change_password`` is set when an admin sets the password; the sign-in
answers that a change is needed (no MFA step, no session) until the person has
chosen their own with ``POST /v1/auth/password``. Existing accounts are left as
they are (false).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08 03:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "must_change_password", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("must_change_password")
