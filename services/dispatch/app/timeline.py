"""Writing to an incident's timeline: every step, with who and when."""

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.dispatch.adapters.models import TimelineRecord


def record(
    session: AsyncSession,
    incident_id: str,
    *,
    at: datetime,
    kind: str,
    actor: str,
    summary: str,
    event_id: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    session.add(
        TimelineRecord(
            incident_id=incident_id,
            at=at,
            kind=kind,
            actor=actor,
            summary=summary,
            event_id=event_id,
            data=data or {},
        )
    )
