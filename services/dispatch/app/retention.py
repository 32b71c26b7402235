"""The retention purge: incidents closed longer ago than the setting lose their personal fields.

Run daily by a worker and on demand by ``corespond incidents purge``. An
incident keeps its times, source, jurisdiction, priority, response model,
roles, disposition, assignments (who, outcome, when) and a coarse area; it
loses the narrative, the caller, the answers, the exact places, the triage
evidence and anything a person typed (domain/retention.py says exactly what).
Its published outbox events, copies of the same data, are deleted. Only
counts are logged.
"""

import logging
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from schemas.triage import TriageDecision
from schemas.vocabulary import IncidentStatus
from services.common import purge
from services.common.db import Database
from services.dispatch.adapters.models import (
    AssignmentRecord,
    IncidentRecord,
    TimelineRecord,
    TimerRecord,
)
from services.dispatch.adapters.outcome_models import OutcomeRecord
from services.dispatch.domain.retention import (
    PURGED_NOTE,
    coarse_area,
    purged_summary,
    retention_cutoff,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PurgeReport:
    cutoff: datetime
    incidents: int
    timeline_entries: int
    assignments: int
    outbox_events: int
    dry_run: bool


async def purge_expired(
    db: Database,
    now: datetime,
    retention_days: int,
    *,
    dry_run: bool = False,
    batch_size: int = 100,
) -> PurgeReport:
    """Purge every incident closed before ``now - retention_days``.

    Batches of ``batch_size`` incidents, each in its own transaction, so the
    service keeps writing meanwhile. ``dry_run`` does the same work and rolls
    every transaction back: its counts are exactly what a real run would do.
    """
    cutoff = retention_cutoff(now, retention_days)
    timeline_entries = assignments = 0

    async def strip(session: AsyncSession, after: str) -> list[str]:
        nonlocal timeline_entries, assignments
        batch = await _due(session, cutoff, after, batch_size, lock=not db.is_sqlite)
        for incident in batch:
            _purge_incident(incident, now)
        ids = [incident.id for incident in batch]
        timeline_entries += await _purge_timeline(session, ids)
        assignments += await _purge_override_reasons(session, ids)
        await _purge_transport_destinations(session, ids)
        return ids

    incidents = await purge.in_batches(db, strip, batch_size=batch_size, dry_run=dry_run)
    outbox_events = await purge.published_outbox(db, cutoff, dry_run=dry_run)
    report = PurgeReport(cutoff, incidents, timeline_entries, assignments, outbox_events, dry_run)
    log.info("retention.purged", extra={**asdict(report), "cutoff": cutoff.isoformat()})
    return report


async def _due(
    session: AsyncSession, cutoff: datetime, after: str, limit: int, *, lock: bool
) -> list[IncidentRecord]:
    """Closed before the cutoff, not purged yet, and no follow-up still to open from it."""
    pending_timer = exists().where(
        TimerRecord.incident_id == IncidentRecord.id, TimerRecord.fired_at.is_(None)
    )
    query = (
        select(IncidentRecord)
        .where(
            IncidentRecord.status == IncidentStatus.CLOSED.value,
            IncidentRecord.closed_at < cutoff,
            IncidentRecord.purged_at.is_(None),
            IncidentRecord.id > after,
            ~pending_timer,
        )
        .order_by(IncidentRecord.id)
        .limit(limit)
    )
    if lock:  # PostgreSQL replicas purge different incidents, never the same one twice
        query = query.with_for_update(skip_locked=True, of=IncidentRecord)
    return list((await session.scalars(query)).all())


def _purge_incident(incident: IncidentRecord, now: datetime) -> None:
    incident.narrative = None
    incident.answers = None
    incident.caller = None
    incident.location = None
    incident.locations = coarse_area(incident.locations or {})
    if incident.triage is not None:
        decision = TriageDecision.model_validate(incident.triage).without_evidence()
        incident.triage = decision.model_dump(mode="json")
    incident.purged_at = now


async def _purge_timeline(session: AsyncSession, incident_ids: list[str]) -> int:
    if not incident_ids:
        return 0
    changed = 0
    entries = await session.scalars(
        select(TimelineRecord).where(TimelineRecord.incident_id.in_(incident_ids))
    )
    for entry in entries:
        summary = purged_summary(entry.kind, entry.summary, entry.data or {})
        if summary != entry.summary:
            entry.summary = summary
            changed += 1
    return changed


async def _purge_override_reasons(session: AsyncSession, incident_ids: list[str]) -> int:
    """An override stays visible as one (a program counts them); why, in words, goes."""
    if not incident_ids:
        return 0
    overridden = await session.scalars(
        select(AssignmentRecord).where(
            AssignmentRecord.incident_id.in_(incident_ids),
            AssignmentRecord.override_reason.is_not(None),
        )
    )
    changed = 0
    for assignment in overridden:
        if assignment.override_reason != PURGED_NOTE:
            assignment.override_reason = PURGED_NOTE
            changed += 1
    return changed


async def _purge_transport_destinations(session: AsyncSession, incident_ids: list[str]) -> None:
    """Where a person was taken is typed text: it goes; that they were transported stays."""
    if not incident_ids:
        return
    outcomes = await session.scalars(
        select(OutcomeRecord).where(
            OutcomeRecord.incident_id.in_(incident_ids),
            OutcomeRecord.transported_to.is_not(None),
        )
    )
    for outcome in outcomes:
        outcome.transported_to = None
