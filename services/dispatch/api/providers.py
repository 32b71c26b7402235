"""The treatment-provider directory (``/v1/providers``) and warm handoffs for an incident."""

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, StrictBool
from sqlalchemy import select

from schemas.api import Instant, Problem
from schemas.vocabulary import HandoffService
from services.common.clock import as_utc, new_id
from services.common.outbox import UnitOfWork
from services.dispatch.adapters.models import HandoffRecord, IncidentRecord, ProviderRecord
from services.dispatch.adapters.provider_files import Capacity, ProviderIn
from services.dispatch.api.deps import Context, Dispatcher, Runtime, UnitManager, UnitReporter
from services.dispatch.api.idempotent import IdempotencyKey, answer_once
from services.dispatch.app import handoffs
from services.dispatch.domain.errors import IncidentNotFound, ProviderNotFound

router = APIRouter(prefix="/v1", tags=["providers"])

ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem},
    409: {"model": Problem},
    422: {"model": Problem},
}


class ProviderView(BaseModel):
    id: str
    organization: str
    service_type: str
    service_name: str
    address: str | None
    lat: float | None
    lon: float | None
    timezone: str
    schedule: list[dict[str, Any]]
    capacity: int | None
    contact_name: str | None
    active: bool


class ProviderChanges(BaseModel):
    model_config = ConfigDict(extra="forbid")

    capacity: Capacity | None = None
    active: StrictBool | None = None


class HandoffAsk(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service: HandoffService


class HandoffView(BaseModel):
    id: str
    incident_id: str
    service_type: str
    status: str
    organization: str | None
    requested_by: str
    expires_at: Instant | None


def provider_view(p: ProviderRecord) -> ProviderView:
    return ProviderView(
        id=p.id,
        organization=p.organization,
        service_type=p.service_type,
        service_name=p.service_name,
        address=p.address,
        lat=p.lat,
        lon=p.lon,
        timezone=p.timezone,
        schedule=p.schedule or [],
        capacity=p.capacity,
        contact_name=p.contact_name,
        active=p.active,
    )


def handoff_view(h: HandoffRecord) -> HandoffView:
    return HandoffView(
        id=h.id,
        incident_id=h.incident_id,
        service_type=h.service_type,
        status=h.status,
        organization=h.organization,
        requested_by=h.requested_by,
        expires_at=as_utc(h.expires_at) if h.expires_at else None,
    )


def new_provider(body: ProviderIn, now: datetime) -> ProviderRecord:
    return ProviderRecord(
        id=new_id(),
        organization=body.organization,
        service_type=body.service.type.value,
        service_name=body.service.name,
        address=body.location.address,
        lat=body.location.lat,
        lon=body.location.lon,
        timezone=body.timezone,
        schedule=[h.model_dump() for h in body.schedule],
        capacity=body.capacity,
        contact_name=body.contact.name,
        contact_phone=body.contact.phone,
        public_phone=body.public_phone,
        active=True,
        updated_at=now,
    )


@router.get("/providers", response_model=list[ProviderView])
async def list_providers(_who: UnitReporter, runtime: Runtime) -> list[ProviderView]:
    async with runtime.db.session() as session:
        rows = (
            await session.scalars(
                select(ProviderRecord).order_by(ProviderRecord.organization, ProviderRecord.id)
            )
        ).all()
    return [provider_view(p) for p in rows]


@router.post(
    "/providers",
    response_model=ProviderView,
    status_code=status.HTTP_201_CREATED,
    responses=ERRORS,
)
async def add_provider(
    body: ProviderIn,
    request: Request,
    who: UnitManager,
    runtime: Runtime,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    async def add(uow: UnitOfWork) -> ProviderView:
        record = new_provider(body, uow.clock.now())
        uow.session.add(record)
        await uow.session.flush()  # a duplicate id fails here, inside the retry
        return provider_view(record)

    return await answer_once(
        runtime, request, who, idempotency_key, body, add, status_code=status.HTTP_201_CREATED
    )


@router.patch("/providers/{provider_id}", response_model=ProviderView, responses=ERRORS)
async def update_provider(
    provider_id: str, body: ProviderChanges, _who: UnitReporter, runtime: Runtime
) -> ProviderView:
    """Capacity (places free now) and whether the service is taking handoffs at all."""
    async with runtime.unit_of_work() as uow:
        record = await uow.session.get(ProviderRecord, provider_id)
        if record is None:
            raise ProviderNotFound(provider_id)
        changes = body.model_dump(exclude_unset=True)
        if "capacity" in changes:
            record.capacity = changes["capacity"]
        if changes.get("active") is not None:
            record.active = changes["active"]
        record.updated_at = uow.clock.now()
        await uow.commit()
        return provider_view(record)


@router.post(
    "/incidents/{incident_id}/handoffs",
    response_model=HandoffView,
    status_code=status.HTTP_201_CREATED,
    responses=ERRORS,
)
async def ask_for_handoff(
    incident_id: str,
    body: HandoffAsk,
    request: Request,
    who: UnitReporter,
    runtime: Runtime,
    context: Context,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    async def ask(uow: UnitOfWork) -> HandoffView:
        incident = await uow.session.get(IncidentRecord, incident_id)
        if incident is None:
            raise IncidentNotFound(incident_id)
        handoff = await handoffs.request(
            uow, incident, body.service, who.subject, context.policies.get(incident.jurisdiction)
        )
        return handoff_view(handoff)

    return await answer_once(
        runtime, request, who, idempotency_key, body, ask, status_code=status.HTTP_201_CREATED
    )


@router.get(
    "/incidents/{incident_id}/handoffs",
    response_model=list[HandoffView],
    responses={404: {"model": Problem}},
)
async def list_handoffs(incident_id: str, _who: Dispatcher, runtime: Runtime) -> list[HandoffView]:
    async with runtime.db.session() as session:
        if await session.get(IncidentRecord, incident_id) is None:
            raise IncidentNotFound(incident_id)
        rows = (
            await session.scalars(
                select(HandoffRecord)
                .where(HandoffRecord.incident_id == incident_id)
                .order_by(HandoffRecord.created_at)
            )
        ).all()
    return [handoff_view(h) for h in rows]
