"""Alerts: ``GET /v1/alerts`` (open ones, most urgent first) and acknowledging one.

An alert leaves the open list when its condition ends (``domain.alerts``);
acknowledging records who has it in hand and when. Both routes are audited by
the access trail like every ``/v1`` route (the alert is the target).
"""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from schemas.api import AlertView, Problem
from services.dispatch.api.deps import AlertReader, Dispatcher, Runtime
from services.dispatch.app import alerts

router = APIRouter(prefix="/v1", tags=["alerts"])

LISTED = 200


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
    async with runtime.db.session() as session:
        return await alerts.listed(session, cleared_too=state == "all", limit=LISTED)


ERRORS: dict[int | str, dict[str, Any]] = {404: {"model": Problem}}


@router.post("/alerts/{alert_id}/acknowledge", response_model=AlertView, responses=ERRORS)
async def acknowledge_alert(alert_id: str, who: Dispatcher, runtime: Runtime) -> AlertView:
    """Who has it in hand, and since when; acknowledging again changes nothing."""
    async with runtime.unit_of_work() as uow:
        view = await alerts.acknowledged_view(uow, alert_id, who.subject)
        await uow.commit()
    return view
