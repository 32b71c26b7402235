"""Triage's schema migrations (Alembic scripts beside this file) and the tables they build."""

from sqlalchemy import MetaData


def target_metadata() -> list[MetaData]:
    """Every table of triage's database: the shared ones and its decisions."""
    from services.common.migrations import runtime_metadata
    from services.triage.adapters.models import Base

    return [runtime_metadata(), Base.metadata]
