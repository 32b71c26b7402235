"""Dispatch's schema migrations (Alembic scripts beside this file) and the tables they build."""

from sqlalchemy import MetaData


def target_metadata() -> list[MetaData]:
    """Every table of dispatch's database: the shared ones, incidents, identity, audit, outcomes."""
    from services.common.migrations import runtime_metadata
    from services.dispatch.adapters import (  # noqa: F401 - tables
        address_models,
        audit_models,
        eido_models,
        identity_models,
        outcome_models,
    )
    from services.dispatch.adapters.models import Base

    return [runtime_metadata(), Base.metadata]
