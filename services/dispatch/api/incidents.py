"""``GET /v1/incidents`` and ``GET /v1/incidents/{id}``: the dispatcher's view of incidents."""

from typing import Annotated

from fastapi import APIRouter, Query

from schemas.api import IncidentSummary, IncidentView, Problem
from schemas.vocabulary import IncidentStatus
from services.dispatch.api.deps import IncidentReader, Runtime
from services.dispatch.app.views import incident_list, incident_view

router = APIRouter(prefix="/v1", tags=["incidents"])


@router.get("/incidents", response_model=list[IncidentSummary])
async def list_incidents(
    _who: IncidentReader,
    runtime: Runtime,
    status: IncidentStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[IncidentSummary]:
    async with runtime.db.session() as session:
        return await incident_list(session, status.value if status else None, limit)


@router.get(
    "/incidents/{incident_id}",
    response_model=IncidentView,
    responses={404: {"model": Problem}},
)
async def get_incident(incident_id: str, _who: IncidentReader, runtime: Runtime) -> IncidentView:
    async with runtime.db.session() as session:
        return await incident_view(session, incident_id)
