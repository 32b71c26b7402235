"""Units: the board, management (``POST``/``PATCH``), status reports and location pings."""

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from schemas.api import Instant, IsoDateTime, Problem
from schemas.calls import E164, Latitude, Longitude
from schemas.languages import LanguageTag
from schemas.text import ONE_LINE
from schemas.vocabulary import AssignmentStatus, Capability, Role, UnitStatus
from services.common.clock import as_utc
from services.common.outbox import UnitOfWork
from services.dispatch.adapters.models import AssignmentRecord, IncidentRecord, UnitRecord
from services.dispatch.adapters.roster import Jurisdiction, RosterUnit, checked_area
from services.dispatch.api.deps import Context, Runtime, UnitManager, UnitReader, UnitReporter
from services.dispatch.api.idempotent import IdempotencyKey, answer_once
from services.dispatch.app import units as unit_ops

router = APIRouter(prefix="/v1", tags=["units"])


class UnitView(BaseModel):
    id: str
    call_sign: str
    agency: str
    roles: list[str]
    capabilities: list[str]
    languages: list[str]
    phone: str | None
    status: str
    lat: float | None
    lon: float | None
    location_at: Instant | None
    location_source: str | None = Field(description="which source the used location came from")
    locations: dict[str, Any] = Field(description="every source's last point, with its time")
    current_assignment_id: str | None
    current_incident_id: str | None
    incident_code: str | None = Field(
        default=None, description="the incident the unit is committed to, as dispatchers say it"
    )
    assignment_role: Role | None = Field(default=None, description="what it fills there")
    assignment_status: AssignmentStatus | None = Field(
        default=None,
        description="offered, accepted, en_route or on_scene: its own status may still read "
        "available while it has said yes",
    )
    sms_opted_out: bool = Field(
        default=False,
        description="its phone sent STOP: not offered automatically (an SMS offer would never "
        "arrive) until its number changes; a dispatcher may still send it by radio",
    )
    jurisdiction: str | None = Field(
        default=None, description="the policy jurisdiction its agency serves (null: everywhere)"
    )
    service_area: dict[str, Any] | None = Field(
        default=None,
        description="GeoJSON Polygon or MultiPolygon its agency serves; outside its area a "
        "unit is offered only as mutual aid",
    )


class UnitChanges(BaseModel):
    model_config = ConfigDict(extra="forbid")

    call_sign: Annotated[str, StringConstraints(min_length=1, max_length=32), ONE_LINE] | None = (
        None
    )
    agency: Annotated[str, StringConstraints(min_length=1, max_length=64), ONE_LINE] | None = None
    roles: Annotated[list[Role], Field(min_length=1)] | None = None
    capabilities: list[Capability] | None = None
    languages: list[LanguageTag] | None = None
    phone: E164 | None = Field(default=None, description="null removes the unit's phone")
    jurisdiction: Jurisdiction | None = Field(
        default=None, description="null: the unit serves every jurisdiction"
    )
    service_area: dict[str, Any] | None = Field(
        default=None, description="GeoJSON Polygon or MultiPolygon; null removes it"
    )

    _area = field_validator("service_area")(checked_area)

    @field_validator("call_sign", "agency", "roles", "capabilities", "languages", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # Left out means "keep"; only a phone can be removed. A null here would reach
        # the record as a unit with no roles or no call sign.
        if value is None:
            raise ValueError("may not be null; leave the field out to keep it as it is")
        return value


class StatusReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: UnitStatus


class LocationPing(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lat: Latitude
    lon: Longitude
    source: str = Field(default="device", pattern=r"^(device|manual)$")
    # ISO text only: pydantic would read a number as seconds after 1970.
    at: IsoDateTime | None = Field(
        default=None, description="when the device fixed it; now if absent"
    )


async def board(session: AsyncSession, units: Sequence[UnitRecord]) -> list[UnitView]:
    """The units as the board shows them: each committed one with its incident and
    the state of its assignment (two reads for the whole board, not two per unit)."""
    assignment_ids = [u.current_assignment_id for u in units if u.current_assignment_id]
    incident_ids = [u.current_incident_id for u in units if u.current_incident_id]
    assignments = (
        {
            a.id: (a.role, a.status)
            for a in (
                await session.execute(
                    select(
                        AssignmentRecord.id, AssignmentRecord.role, AssignmentRecord.status
                    ).where(AssignmentRecord.id.in_(assignment_ids))
                )
            ).all()
        }
        if assignment_ids
        else {}
    )
    codes = (
        dict(
            (
                await session.execute(
                    select(IncidentRecord.id, IncidentRecord.code).where(
                        IncidentRecord.id.in_(incident_ids)
                    )
                )
            ).all()
        )
        if incident_ids
        else {}
    )
    views = []
    for u in units:
        role, status = assignments.get(u.current_assignment_id or "", (None, None))
        views.append(
            view(u).model_copy(
                update={
                    "incident_code": codes.get(u.current_incident_id or ""),
                    # model_copy does not validate: give it the enums, not their text.
                    "assignment_role": Role(role) if role else None,
                    "assignment_status": AssignmentStatus(status) if status else None,
                }
            )
        )
    return views


async def board_view(session: AsyncSession, unit: UnitRecord) -> UnitView:
    [one] = await board(session, [unit])
    return one


def view(u: UnitRecord) -> UnitView:
    return UnitView(
        id=u.id,
        call_sign=u.call_sign,
        agency=u.agency,
        roles=u.roles,
        capabilities=u.capabilities,
        languages=u.languages or [],
        phone=u.phone,
        status=u.status,
        lat=u.lat,
        lon=u.lon,
        location_at=as_utc(u.location_at) if u.location_at else None,
        location_source=u.location_source,
        locations=u.locations or {},
        current_assignment_id=u.current_assignment_id,
        current_incident_id=u.current_incident_id,
        sms_opted_out=bool(u.sms_opted_out),
        jurisdiction=u.jurisdiction,
        service_area=u.service_area,
    )


ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem},
    409: {"model": Problem},
    422: {"model": Problem},
}


@router.get("/units", response_model=list[UnitView])
async def list_units(_who: UnitReader, runtime: Runtime) -> list[UnitView]:
    async with runtime.db.session() as session:
        units = (await session.scalars(select(UnitRecord).order_by(UnitRecord.call_sign))).all()
        return await board(session, units)


@router.get("/units/{unit_id}", response_model=UnitView, responses=ERRORS)
async def get_unit(unit_id: str, _who: UnitReader, runtime: Runtime) -> UnitView:
    async with runtime.unit_of_work() as uow:
        return await board_view(uow.session, await unit_ops.get_unit(uow, unit_id))


@router.post(
    "/units", response_model=UnitView, status_code=status.HTTP_201_CREATED, responses=ERRORS
)
async def create_unit(
    body: RosterUnit,
    request: Request,
    who: UnitManager,
    runtime: Runtime,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    async def create(uow: UnitOfWork) -> UnitView:
        return view(await unit_ops.create_unit(uow, body))

    return await answer_once(
        runtime, request, who, idempotency_key, body, create, status_code=status.HTTP_201_CREATED
    )


@router.patch("/units/{unit_id}", response_model=UnitView, responses=ERRORS)
async def update_unit(
    unit_id: str, body: UnitChanges, _who: UnitManager, runtime: Runtime
) -> UnitView:
    async with runtime.unit_of_work() as uow:
        unit = await unit_ops.update_unit(uow, unit_id, body.model_dump(exclude_unset=True))
        await uow.commit()
        return view(unit)


@router.post("/units/{unit_id}/status", response_model=UnitView, responses=ERRORS)
async def report_status(
    unit_id: str, body: StatusReport, who: UnitReporter, runtime: Runtime, context: Context
) -> UnitView:
    async with runtime.unit_of_work() as uow:
        unit = await unit_ops.report_status(
            uow, unit_id, body.status, who.subject, context.policies.get, context.eta
        )
        await uow.commit()
        return await board_view(uow.session, unit)


@router.post("/units/{unit_id}/location", response_model=UnitView, responses=ERRORS)
async def report_location(
    unit_id: str, body: LocationPing, _who: UnitReporter, runtime: Runtime
) -> UnitView:
    async with runtime.unit_of_work() as uow:
        unit = await unit_ops.get_unit(uow, unit_id)
        unit_ops.report_location(unit, body.lat, body.lon, body.source, body.at or uow.clock.now())
        await uow.commit()
        return view(unit)
