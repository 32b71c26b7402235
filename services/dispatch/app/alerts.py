"""Raising an alert: a row for supervisors (``GET /v1/alerts``), a line on the timeline, and
an SMS page to the on-duty supervisors when the alert names them and the policy has numbers."""

from collections.abc import Sequence
from typing import Any

from schemas.envelope import EventType
from schemas.events import AlertRaised
from schemas.vocabulary import AlertKind
from services.common.clock import new_id
from services.common.outbox import UnitOfWork
from services.dispatch.adapters.models import AlertRecord, IncidentRecord
from services.dispatch.app import timeline


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
) -> str:
    """Raise it; the alert's id comes back (a spike record keeps it)."""
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
    return alert_id
