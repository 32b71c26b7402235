"""Alembic environment of notify's database, run by `corespond db` and at start (in code)."""

from services.common.migrations import run_environment

run_environment()
