"""Alerts: ``GET /v1/alerts`` (open ones, most urgent first) and acknowledging one.

An alert leaves the open list when its condition ends (``domain.alerts``);
acknowledging records who has it in hand and when. Both routes are audited by
the access trail like every ``/v1`` route (the alert is the target).
"""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import select

from schemas.api import Instant, Problem
from schemas.vocabulary import AlertKind
from services.common.clock import as_utc
from services.dispatch.adapters.models import AlertRecord, IncidentRecord
from services.dispatch.api.deps import AlertReader, Dispatcher, Runtime
from services.dispatch.app.alerts import acknowledge
from services.dispatch.domain.alerts import urgency

router = APIRouter(prefix="/v1", tags=["alerts"])

LISTED = 200


class AlertView(BaseModel):
    id: str
    kind: AlertKind
    incident_id: str | None
    incident_code: str | None = None
    priority: int | None = None
    unit_id: str | None
    audience: list[str]
    summary: str
    raised_at: Instant
    acknowledged_by: str | None = None
    acknowledged_at: Instant | None = None
    cleared_at: Instant | None = None
    cleared_reason: str | None = None


def _view(alert: AlertRecord, incident: IncidentRecord | None) -> AlertView:
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


@router.get("/alerts", response_model=list[AlertView])
async def list_alerts(
    _who: AlertReader,
    runtime: Runtime,
    state: Annotated[
        Literal["open", "all"],
        Query(description="open: conditions still standing (default); all: cleared ones too"),
    ] = "open",
) -> list[AlertView]:
    """Unacknowledged first, then by incident priority and kind, then newest first."""
    query = (
        select(AlertRecord, IncidentRecord)
        .outerjoin(IncidentRecord, IncidentRecord.id == AlertRecord.incident_id)
        .order_by(AlertRecord.raised_at.desc(), AlertRecord.id)
        .limit(LISTED)
    )
    if state == "open":
        query = query.where(AlertRecord.cleared_at.is_(None))
    async with runtime.db.session() as session:
        rows = (await session.execute(query)).all()
    views = [_view(alert, incident) for alert, incident in rows]
    # A stable sort keeps newest first within each urgency.
    return sorted(views, key=lambda v: urgency(v.kind, v.priority, v.acknowledged_at is not None))


ERRORS: dict[int | str, dict[str, Any]] = {404: {"model": Problem}}


@router.post("/alerts/{alert_id}/acknowledge", response_model=AlertView, responses=ERRORS)
async def acknowledge_alert(alert_id: str, who: Dispatcher, runtime: Runtime) -> AlertView:
    """Who has it in hand, and since when; acknowledging again changes nothing."""
    async with runtime.unit_of_work() as uow:
        alert = await acknowledge(uow, alert_id, who.subject)
        incident = (
            await uow.session.get(IncidentRecord, alert.incident_id) if alert.incident_id else None
        )
        view = _view(alert, incident)
        await uow.commit()
    return view
