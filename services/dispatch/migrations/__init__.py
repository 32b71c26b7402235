"""Dispatch's schema migrations (Alembic scripts beside this file) and the tables they build."""

from sqlalchemy import MetaData


def target_metadata() -> list[MetaData]:
    """Every table of dispatch's database: the shared ones, incidents, identity, audit."""
    from services.common.migrations import runtime_metadata
    from services.dispatch.adapters import audit_models, identity_models  # noqa: F401 - tables
    from services.dispatch.adapters.models import Base

    return [runtime_metadata(), Base.metadata]
