"""Alerts: raising one (a row for ``GET /v1/alerts``, a line on the timeline, an SMS page to
the on-duty supervisors when the alert names them and the policy has numbers), clearing
those whose condition has ended, and acknowledging one (who, when)."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from schemas.api import AlertView
from schemas.envelope import EventType
from schemas.events import AlertRaised
from schemas.vocabulary import AlertKind, HandoffStatus
from services.common.clock import as_utc, new_id
from services.common.db import Session
from services.common.outbox import UnitOfWork
from services.dispatch.adapters.models import (
    AlertRecord,
    AssignmentRecord,
    HandoffRecord,
    IncidentRecord,
)
from services.dispatch.app import timeline
from services.dispatch.domain.alerts import (
    ENDS_WHEN_ACKNOWLEDGED,
    IncidentState,
    ended,
    subject_of,
    urgency,
)
from services.dispatch.domain.errors import AlertNotFound
from services.dispatch.domain.roles import COVERING


def raise_alert(
    uow: UnitOfWork,
    kind: AlertKind,
    incident: IncidentRecord,
    audience: Sequence[str],
    summary: str,
    *,
    supervisor_phones: Sequence[str] = (),
    unit_id: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    now = uow.clock.now()
    alert_id = new_id()
    uow.session.add(
        AlertRecord(
            id=alert_id,
            kind=kind.value,
            incident_id=incident.id,
            unit_id=unit_id,
            audience=list(audience),
            summary=summary,
            raised_at=now,
            subject=subject_of(kind, data),
        )
    )
    paged = list(supervisor_phones) if "supervisor" in audience else []
    timeline.record(
        uow.session,
        incident.id,
        at=now,
        kind=f"alert.{kind.value}",
        actor="dispatch",
        summary=f"{summary}; alerted {', '.join(audience)}"
        + (f" (supervisors paged by SMS: {len(paged)})" if paged else ""),
        data=data,
    )
    if paged:
        uow.emit(
            EventType.ALERT_RAISED,
            incident.id,
            AlertRaised(
                alert_id=alert_id,
                incident_id=incident.id,
                incident_code=incident.code,
                kind=kind,
                phones=paged,
            ),
        )


async def clear_ended(uow: UnitOfWork, incident: IncidentRecord) -> None:
    """Take off the open list every alert of the incident whose condition has ended.

    Called wherever a condition can end (a close, an assignment step, a handoff
    answer); the rules themselves are in ``domain.alerts``.
    """
    open_alerts = (
        await uow.session.scalars(
            select(AlertRecord).where(
                AlertRecord.incident_id == incident.id, AlertRecord.cleared_at.is_(None)
            )
        )
    ).all()
    if not open_alerts:
        return
    state = await _state(uow, incident)
    now = uow.clock.now()
    for alert in open_alerts:
        reason = ended(AlertKind(alert.kind), alert.subject, state)
        if reason is None:
            continue
        alert.cleared_at = now
        alert.cleared_reason = reason
        timeline.record(
            uow.session,
            incident.id,
            at=now,
            kind="alert.cleared",
            actor="dispatch",
            summary=f"{alert.kind.replace('_', ' ')} alert cleared: {reason}",
            data={"alert_id": alert.id},
        )


async def _state(uow: UnitOfWork, incident: IncidentRecord) -> IncidentState:
    committed = (
        await uow.session.scalars(
            select(AssignmentRecord.role).where(
                AssignmentRecord.incident_id == incident.id,
                AssignmentRecord.status.in_([s.value for s in COVERING]),
            )
        )
    ).all()
    handoffs = (
        await uow.session.execute(
            select(HandoffRecord.id, HandoffRecord.service_type, HandoffRecord.status).where(
                HandoffRecord.incident_id == incident.id
            )
        )
    ).all()
    return IncidentState(
        closed=incident.closed_at is not None,
        filled_roles=frozenset(committed),
        handoffs={h: (service, HandoffStatus(status)) for h, service, status in handoffs},
    )


async def acknowledge(uow: UnitOfWork, alert_id: str, actor: str) -> AlertRecord:
    """Record who has the alert in hand; a second acknowledgement changes nothing."""
    alert = await uow.session.get(AlertRecord, alert_id)
    if alert is None:
        raise AlertNotFound(alert_id)
    if alert.acknowledged_at is not None:
        return alert  # the first one counts: who took it, and when
    now = uow.clock.now()
    alert.acknowledged = True
    alert.acknowledged_by = actor
    alert.acknowledged_at = now
    if AlertKind(alert.kind) in ENDS_WHEN_ACKNOWLEDGED and alert.cleared_at is None:
        alert.cleared_at = now
        alert.cleared_reason = "acknowledged"
    if alert.incident_id is not None:
        # On the timeline, so every console's live stream hears of it.
        timeline.record(
            uow.session,
            alert.incident_id,
            at=now,
            kind="alert.acknowledged",
            actor=actor,
            summary=f"{alert.kind.replace('_', ' ')} alert acknowledged by {actor}",
            data={"alert_id": alert.id},
        )
    return alert


def view(alert: AlertRecord, incident: IncidentRecord | None) -> AlertView:
    return AlertView(
        id=alert.id,
        kind=AlertKind(alert.kind),
        incident_id=alert.incident_id,
        incident_code=incident.code if incident else None,
        priority=incident.priority if incident else None,
        unit_id=alert.unit_id,
        audience=alert.audience,
        summary=alert.summary,
        raised_at=as_utc(alert.raised_at),
        acknowledged_by=alert.acknowledged_by,
        acknowledged_at=as_utc(alert.acknowledged_at) if alert.acknowledged_at else None,
        cleared_at=as_utc(alert.cleared_at) if alert.cleared_at else None,
        cleared_reason=alert.cleared_reason,
    )


async def listed(session: Session, *, cleared_too: bool, limit: int) -> list[AlertView]:
    """Unacknowledged first, then by incident priority and kind, then newest first."""
    query = (
        select(AlertRecord, IncidentRecord)
        .outerjoin(IncidentRecord, IncidentRecord.id == AlertRecord.incident_id)
        .order_by(AlertRecord.raised_at.desc(), AlertRecord.id)
        .limit(limit)
    )
    if not cleared_too:
        query = query.where(AlertRecord.cleared_at.is_(None))
    rows = (await session.execute(query)).all()
    views = [view(alert, incident) for alert, incident in rows]
    # A stable sort keeps newest first within each urgency.
    return sorted(views, key=lambda v: urgency(v.kind, v.priority, v.acknowledged_at is not None))


async def acknowledged_view(uow: UnitOfWork, alert_id: str, actor: str) -> AlertView:
    """``acknowledge``, answered as the console shows the alert."""
    alert = await acknowledge(uow, alert_id, actor)
    incident = (
        await uow.session.get(IncidentRecord, alert.incident_id) if alert.incident_id else None
    )
    return view(alert, incident)
