"""What a program reports on: counts of incidents by how they were answered, never who.

Program managers see outcomes (how many calls went to a clinician instead of
an officer, to an EMT with naloxone, to telehealth; dispositions; warm
handoffs) without any narrative, caller, address or name, so these figures
survive the retention purge of personal fields.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.dispatch.adapters.models import AssignmentRecord, IncidentRecord


@dataclass
class Summary:
    since: datetime | None
    until: datetime | None
    incidents: int = 0
    by_response_model: dict[str, int] = field(default_factory=dict)
    by_priority: dict[str, int] = field(default_factory=dict)
    by_source: dict[str, int] = field(default_factory=dict)
    by_jurisdiction: dict[str, int] = field(default_factory=dict)
    by_disposition: dict[str, int] = field(default_factory=dict)
    assignments_by_role_and_outcome: dict[str, int] = field(default_factory=dict)


async def summarise(
    session: AsyncSession, since: datetime | None, until: datetime | None
) -> Summary:
    query = select(
        IncidentRecord.id,
        IncidentRecord.response_model,
        IncidentRecord.priority,
        IncidentRecord.source,
        IncidentRecord.jurisdiction,
        IncidentRecord.disposition,
    )
    if since is not None:
        query = query.where(IncidentRecord.received_at >= since)
    if until is not None:
        query = query.where(IncidentRecord.received_at < until)
    rows = (await session.execute(query)).all()
    ids = [r.id for r in rows]
    summary = Summary(since, until, incidents=len(rows))
    summary.by_response_model = dict(Counter(r.response_model or "untriaged" for r in rows))
    summary.by_priority = dict(Counter(f"P{r.priority}" if r.priority else "none" for r in rows))
    summary.by_source = dict(Counter(r.source for r in rows))
    summary.by_jurisdiction = dict(Counter(r.jurisdiction for r in rows))
    summary.by_disposition = dict(Counter(r.disposition or "open" for r in rows))
    outcomes: Counter[str] = Counter()
    for chunk in range(0, len(ids), 500):
        found = await session.execute(
            select(AssignmentRecord.role, AssignmentRecord.status).where(
                AssignmentRecord.incident_id.in_(ids[chunk : chunk + 500])
            )
        )
        outcomes.update(f"{role}:{status}" for role, status in found.all())
    summary.assignments_by_role_and_outcome = dict(outcomes)
    return summary
