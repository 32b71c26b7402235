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


async def snapshot(session: AsyncSession) -> None:
    """Make a fresh session read one snapshot on PostgreSQL (SQLite's read transaction is one
    already). Under READ COMMITTED each statement sees the latest commit, so an incident
    could be read before dispatch's plan committed and its offers after (an offer with no
    recommendation). A session that has already read keeps the level it began with."""
    if session.in_transaction():
        return
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


async def incident_view(session: AsyncSession, incident_id: str) -> IncidentView:
    """The incident as of one moment, when ``session`` is fresh (see ``snapshot``)."""
    await snapshot(session)
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


# A search reads this many of the newest incidents (their addresses and phones are
# encrypted at rest, so they are matched here, not in SQL).
SEARCHED = 2000


async def incident_list(
    session: AsyncSession, status: str | None, limit: int, search: str | None = None
) -> list[IncidentSummary]:
    query = select(IncidentRecord).order_by(IncidentRecord.received_at.desc())
    query = query.limit(SEARCHED if search else limit)
    if status:
        query = query.where(IncidentRecord.status == status)
    incidents = list((await session.scalars(query)).all())
    if search:
        incidents = [i for i in incidents if matches(i, search)][:limit]
    unfilled_by_incident = await _unfilled(session, incidents)
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
            address=(i.location or {}).get("address"),
            category=(i.triage or {}).get("category"),
            unfilled_roles=unfilled_by_incident.get(i.id, []),
            lat=point[1],
            lon=point[2],
        )
        for i in incidents
        for point in [used_point(i.locations or {})]
    ]


def matches(incident: IncidentRecord, search: str) -> bool:
    """The code, part of the address (any case), or part of the caller's phone number."""
    wanted = search.strip().lstrip("#").casefold()
    if not wanted:
        return True
    if incident.code.casefold().startswith(wanted):
        return True
    address = str((incident.location or {}).get("address") or "").casefold()
    if wanted in address:
        return True
    digits = "".join(c for c in wanted if c.isdigit())
    phone = str((incident.caller or {}).get("phone") or "")
    return len(digits) >= 4 and digits in phone


async def _unfilled(session: AsyncSession, incidents: list[IncidentRecord]) -> dict[str, list[str]]:
    """Roles of each open, planned incident with nobody asked or coming (one query)."""
    planned = {
        i.id: [e["role"] for e in i.recommendation or []]
        for i in incidents
        if i.recommendation and i.status in _ACTED
    }
    if not planned:
        return {}
    rows = (
        await session.execute(
            select(
                AssignmentRecord.incident_id,
                AssignmentRecord.role,
                AssignmentRecord.status,
                AssignmentRecord.call_sign,
            )
            .where(AssignmentRecord.incident_id.in_(list(planned)))
            .order_by(AssignmentRecord.offered_at, AssignmentRecord.id)
        )
    ).all()
    by_incident: dict[str, list[tuple[str, str, str]]] = {}
    for incident_id, role, status, call_sign in rows:
        by_incident.setdefault(incident_id, []).append((role, status, call_sign))
    return {
        incident_id: unfilled(role_covers(roles, by_incident.get(incident_id, [])))
        for incident_id, roles in planned.items()
    }


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
