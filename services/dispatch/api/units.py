"""Units: the board, management (``POST``/``PATCH``), status reports and location pings."""

from typing import Annotated, Any

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from sqlalchemy import select

from schemas.api import Instant, IsoDateTime, Problem
from schemas.calls import E164, Latitude, Longitude
from schemas.text import ONE_LINE
from schemas.vocabulary import Capability, Role, UnitStatus
from services.common.clock import as_utc
from services.common.outbox import UnitOfWork
from services.dispatch.adapters.models import UnitRecord
from services.dispatch.adapters.roster import RosterUnit
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


class UnitChanges(BaseModel):
    model_config = ConfigDict(extra="forbid")

    call_sign: Annotated[str, StringConstraints(min_length=1, max_length=32), ONE_LINE] | None = (
        None
    )
    agency: Annotated[str, StringConstraints(min_length=1, max_length=64), ONE_LINE] | None = None
    roles: Annotated[list[Role], Field(min_length=1)] | None = None
    capabilities: list[Capability] | None = None
    languages: list[Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")]] | None = None
    phone: E164 | None = Field(default=None, description="null removes the unit's phone")

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
    return [view(u) for u in units]


@router.get("/units/{unit_id}", response_model=UnitView, responses=ERRORS)
async def get_unit(unit_id: str, _who: UnitReader, runtime: Runtime) -> UnitView:
    async with runtime.unit_of_work() as uow:
        return view(await unit_ops.get_unit(uow, unit_id))


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
        return view(unit)


@router.post("/units/{unit_id}/location", response_model=UnitView, responses=ERRORS)
async def report_location(
    unit_id: str, body: LocationPing, _who: UnitReporter, runtime: Runtime
) -> UnitView:
    async with runtime.unit_of_work() as uow:
        unit = await unit_ops.get_unit(uow, unit_id)
        unit_ops.report_location(unit, body.lat, body.lon, body.source, body.at or uow.clock.now())
        await uow.commit()
        return view(unit)
