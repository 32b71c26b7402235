"""Incidents: the list and the single pane, the dispatcher's confirm or override, a pin, closing."""

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from schemas.api import IncidentSummary, IncidentView, Problem
from schemas.calls import Latitude, Longitude
from schemas.text import MULTI_LINE, ONE_LINE, Line
from schemas.vocabulary import Disposition, FollowUpOutcome, IncidentStatus, Role
from services.common.outbox import UnitOfWork
from services.dispatch.adapters.models import IncidentRecord
from services.dispatch.api.deps import Context, Dispatcher, IncidentReader, Runtime
from services.dispatch.app import dispatching, outcomes, timeline
from services.dispatch.app.replan import replan
from services.dispatch.app.views import incident_list, incident_view
from services.dispatch.domain.eido_mapping import APCO_DISPOSITION_CODES
from services.dispatch.domain.errors import IncidentNotFound

router = APIRouter(prefix="/v1", tags=["incidents"])


@router.get("/incidents", response_model=list[IncidentSummary])
async def list_incidents(
    _who: IncidentReader,
    runtime: Runtime,
    status: IncidentStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    q: Annotated[
        str | None,
        Query(max_length=100, description="search: code, part of the address or caller phone"),
    ] = None,
) -> list[IncidentSummary]:
    async with runtime.db.session() as session:
        return await incident_list(session, status.value if status else None, limit, q)


@router.get(
    "/incidents/{incident_id}",
    response_model=IncidentView,
    responses={404: {"model": Problem}},
)
async def get_incident(incident_id: str, _who: IncidentReader, runtime: Runtime) -> IncidentView:
    async with runtime.db.session() as session:
        return await incident_view(session, incident_id)


class ChosenUnit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role
    unit_id: Line = Field(min_length=1, max_length=64)


class DispatchOrder(BaseModel):
    """The dispatcher's choice: the recommendation as is, or an override with its reason."""

    model_config = ConfigDict(extra="forbid")

    units: Annotated[list[ChosenUnit], Field(min_length=1)]
    override_reason: Annotated[str, StringConstraints(max_length=500), ONE_LINE] | None = None


class Closing(BaseModel):
    model_config = ConfigDict(extra="forbid")

    disposition: Disposition
    note: Annotated[str, StringConstraints(max_length=2000), MULTI_LINE] | None = None
    fatal_overdose: StrictBool = Field(
        default=False, description="counts toward responders' critical-incident exposure"
    )
    # Outcome fields (issue 21), all optional so existing clients still close as before.
    naloxone_doses: StrictInt | None = Field(
        default=None, ge=0, le=10, description="naloxone doses given on scene"
    )
    transported: StrictBool | None = Field(default=None, description="taken somewhere")
    transported_to: Annotated[str, StringConstraints(min_length=1, max_length=120), ONE_LINE] | (
        None
    ) = Field(default=None, description="where to (a facility, not a person); needs transported")
    referred_provider_id: Line | None = Field(
        default=None, max_length=64, description="the treatment provider referred to (must exist)"
    )
    arrest: StrictBool | None = None
    follow_up_outcome: FollowUpOutcome | None = Field(
        default=None, description="for a follow-up visit: what it came to"
    )
    # CAD interop (issue 19): the APCO code a CAD is sent instead of the mapped one.
    apco_disposition: Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z_]{1,31}$")] | None = (
        Field(
            default=None,
            description="an APCO ANS 1.111.2 disposition code (README, CAD interop); "
            "sent to CADs instead of the one the disposition maps to",
        )
    )

    @field_validator("apco_disposition")
    @classmethod
    def _a_known_code(cls, value: str | None) -> str | None:
        if value is not None and value not in APCO_DISPOSITION_CODES:
            raise ValueError(
                "not an APCO disposition code; one of " + ", ".join(sorted(APCO_DISPOSITION_CODES))
            )
        return value

    @field_validator("transported_to")
    @classmethod
    def _only_when_transported(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and info.data.get("transported") is not True:
            raise ValueError("only with transported: true")
        return value

    def outcome(self) -> outcomes.OutcomeFields:
        return outcomes.OutcomeFields(
            naloxone_doses=self.naloxone_doses,
            transported=self.transported,
            transported_to=self.transported_to,
            referred_provider_id=self.referred_provider_id,
            arrest=self.arrest,
            follow_up_outcome=self.follow_up_outcome,
            fatal_overdose=self.fatal_overdose,
            apco_disposition=self.apco_disposition,
        )


class Pin(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lat: Latitude
    lon: Longitude


ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem},
    409: {"model": Problem},
    422: {"model": Problem},
}


async def _incident(uow: UnitOfWork, incident_id: str) -> IncidentRecord:
    incident = await uow.session.get(IncidentRecord, incident_id)
    if incident is None:
        raise IncidentNotFound(incident_id)
    return incident


@router.post("/incidents/{incident_id}/dispatch", response_model=IncidentView, responses=ERRORS)
async def dispatch_units(
    incident_id: str, body: DispatchOrder, who: Dispatcher, runtime: Runtime, context: Context
) -> IncidentView:
    async with runtime.unit_of_work() as uow:
        incident = await _incident(uow, incident_id)
        await dispatching.confirm(
            uow,
            incident,
            [(c.role, c.unit_id) for c in body.units],
            body.override_reason,
            who.subject,
            context.policies.get(incident.jurisdiction),
            context.eta,
        )
        await uow.commit()
    async with runtime.db.session() as session:
        return await incident_view(session, incident_id)


@router.post("/incidents/{incident_id}/replan", response_model=IncidentView, responses=ERRORS)
async def replan_incident(
    incident_id: str, who: Dispatcher, runtime: Runtime, context: Context
) -> IncidentView:
    """Recalculate every unfilled role now (a unit may have come free since); where the
    policy offers this priority by itself, the best near unit is offered."""
    async with runtime.unit_of_work() as uow:
        incident = await _incident(uow, incident_id)
        await replan(
            uow, incident, context.policies.get(incident.jurisdiction), context.eta, who.subject
        )
        await uow.commit()
    async with runtime.db.session() as session:
        return await incident_view(session, incident_id)


@router.post("/incidents/{incident_id}/close", response_model=IncidentView, responses=ERRORS)
async def close_incident(
    incident_id: str, body: Closing, who: Dispatcher, runtime: Runtime, context: Context
) -> IncidentView:
    async with runtime.unit_of_work() as uow:
        incident = await _incident(uow, incident_id)
        await dispatching.close(
            uow,
            incident,
            body.disposition,
            body.note,
            body.fatal_overdose,
            who.subject,
            context.policies.get(incident.jurisdiction),
        )
        await outcomes.record(uow, incident.id, body.outcome(), who.subject)
        await uow.commit()
    async with runtime.db.session() as session:
        return await incident_view(session, incident_id)


@router.put("/incidents/{incident_id}/pin", response_model=IncidentView, responses=ERRORS)
async def pin_location(
    incident_id: str, body: Pin, who: Dispatcher, runtime: Runtime
) -> IncidentView:
    """A dispatcher's pin: kept beside the reported address and the geocoded point, and used."""
    async with runtime.unit_of_work() as uow:
        incident = await _incident(uow, incident_id)
        now = uow.clock.now()
        places = dict(incident.locations or {})
        places["pin"] = {
            "lat": body.lat,
            "lon": body.lon,
            "at": now.isoformat(),
            "by": who.subject,
            "source": "pin",
            "confidence": 1.0,
        }
        incident.locations = places
        incident.updated_at = now
        timeline.record(
            uow.session,
            incident.id,
            at=now,
            kind="location.pinned",
            actor=who.subject,
            summary=f"dispatcher pinned the location at {body.lat:.5f}, {body.lon:.5f}",
        )
        await uow.commit()
    async with runtime.db.session() as session:
        return await incident_view(session, incident_id)
