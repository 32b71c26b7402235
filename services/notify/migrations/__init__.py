"""Notify's schema migrations (Alembic scripts beside this file) and the tables they build."""

from sqlalchemy import MetaData


def target_metadata() -> list[MetaData]:
    """Every table of notify's database: the shared ones, messages, contacts, links."""
    from services.common.migrations import runtime_metadata
    from services.notify.adapters.models import Base

    return [runtime_metadata(), Base.metadata]
