"""Read side: the dispatcher's single pane for one incident, and the incident list."""

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from schemas.api import (
    AssignmentView,
    IncidentSummary,
    IncidentView,
    NotificationView,
    RoleView,
    TimelineEntry,
)
from schemas.triage import TriageDecision
from schemas.vocabulary import IncidentStatus
from services.common.clock import as_utc
from services.dispatch.adapters.models import (
    AssignmentRecord,
    IncidentRecord,
    NotificationRecord,
    TimelineRecord,
)
from services.dispatch.domain.errors import IncidentNotFound
from services.dispatch.domain.places import used_place, used_point
from services.dispatch.domain.roles import needed_by_role, role_covers, unfilled

_ACTED = frozenset({IncidentStatus.DISPATCHED.value, IncidentStatus.UNASSIGNED.value})


async def incident_view(session: AsyncSession, incident_id: str) -> IncidentView:
    """The incident as of one moment. ``session`` must be fresh (nothing read yet)."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        # One snapshot for the whole pane: under READ COMMITTED each statement sees
        # the latest commit, so the incident could be read before dispatch's plan
        # committed and its offers after (an offer with no recommendation).
        await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    incident = await session.get(IncidentRecord, incident_id)
    if incident is None:
        raise IncidentNotFound(incident_id)
    assignments = (
        await session.scalars(
            select(AssignmentRecord)
            .where(AssignmentRecord.incident_id == incident_id)
            .order_by(AssignmentRecord.offered_at, AssignmentRecord.id)
        )
    ).all()
    notifications = (
        await session.scalars(
            select(NotificationRecord)
            .where(NotificationRecord.incident_id == incident_id)
            .order_by(NotificationRecord.updated_at)
        )
    ).all()
    entries = (
        await session.scalars(
            select(TimelineRecord)
            .where(TimelineRecord.incident_id == incident_id)
            .order_by(TimelineRecord.at, TimelineRecord.id)
        )
    ).all()
    covers = role_covers(
        [e["role"] for e in incident.recommendation or []],
        [(a.role, a.status, a.call_sign) for a in assignments],
        needed_by_role(incident.recommendation or []),
    )
    return IncidentView(
        id=incident.id,
        code=incident.code,
        status=incident.status,
        received_at=as_utc(incident.received_at),
        updated_at=as_utc(incident.updated_at),
        source=incident.source,
        jurisdiction=incident.jurisdiction,
        purged_at=as_utc(incident.purged_at) if incident.purged_at else None,
        narrative=incident.narrative,
        answers=incident.answers,
        location=incident.location,
        locations=incident.locations or {},
        location_used=used_point(incident.locations or {})[0],
        location_source=used_place(incident.locations or {})[0],
        location_confidence=used_place(incident.locations or {})[1],
        caller=incident.caller,
        language=incident.language,
        triage=TriageDecision.model_validate(incident.triage) if incident.triage else None,
        recommendation=incident.recommendation or [],
        roles=[
            RoleView(
                role=c.role,
                state=c.state.value,
                call_signs=list(c.call_signs),
                assignment_status=c.assignment_status,
                needed=c.needed,
            )
            for c in covers
        ],
        # Only once dispatch has acted: before, every role is "unfilled" by definition.
        unfilled_roles=unfilled(covers) if incident.status in _ACTED else [],
        mutual_aid=_mutual_aid(incident, assignments),
        disposition=incident.disposition,
        closed_at=as_utc(incident.closed_at) if incident.closed_at else None,
        assignments=[assignment_view(a) for a in assignments],
        notifications=[
            NotificationView(
                id=n.id,
                assignment_id=n.assignment_id,
                channel=n.channel,
                status=n.status,
                to_masked=n.to_masked,
                error_code=n.error_code,
                error_message=n.error_message,
                updated_at=as_utc(n.updated_at),
            )
            for n in notifications
        ],
        timeline=[
            TimelineEntry(
                at=as_utc(t.at),
                kind=t.kind,
                summary=t.summary,
                actor=t.actor,
                event_id=t.event_id,
                data=t.data,
            )
            for t in entries
        ],
    )


async def incident_list(
    session: AsyncSession, status: str | None, limit: int
) -> list[IncidentSummary]:
    query = select(IncidentRecord).order_by(IncidentRecord.received_at.desc()).limit(limit)
    if status:
        query = query.where(IncidentRecord.status == status)
    return [
        IncidentSummary(
            id=i.id,
            code=i.code,
            status=i.status,
            priority=i.priority,
            response_model=i.response_model,
            jurisdiction=i.jurisdiction,
            received_at=as_utc(i.received_at),
            updated_at=as_utc(i.updated_at),
        )
        for i in (await session.scalars(query)).all()
    ]


def assignment_view(a: AssignmentRecord) -> AssignmentView:
    return AssignmentView(
        id=a.id,
        unit_id=a.unit_id,
        call_sign=a.call_sign,
        role=a.role,
        status=a.status,
        eta_seconds=a.eta_seconds,
        reasons=a.reasons,
        offered_at=as_utc(a.offered_at),
        updated_at=as_utc(a.updated_at),
        updated_by=a.updated_by,
        expires_at=as_utc(a.expires_at) if a.expires_at else None,
        override_reason=a.override_reason,
        mutual_aid=bool(a.mutual_aid),
    )


def _mutual_aid(incident: IncidentRecord, assignments: Sequence[AssignmentRecord]) -> list[str]:
    """Units from outside the incident's area on it: recommended, or offered or sent."""
    named = [e["call_sign"] for e in incident.recommendation or [] if e.get("mutual_aid")]
    named += [a.call_sign for a in assignments if a.mutual_aid]
    return list(dict.fromkeys(n for n in named if n))
