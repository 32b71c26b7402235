"""``GET /v1/units``: the unit board (full management comes with the dispatch issue)."""

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import select

from services.common.clock import as_utc
from services.dispatch.adapters.models import UnitRecord
from services.dispatch.api.deps import Runtime, UnitReader

router = APIRouter(prefix="/v1", tags=["units"])


class UnitView(BaseModel):
    id: str
    call_sign: str
    agency: str
    roles: list[str]
    capabilities: list[str]
    status: str
    lat: float | None
    lon: float | None
    location_at: datetime | None
    current_incident_id: str | None


@router.get("/units", response_model=list[UnitView])
async def list_units(_who: UnitReader, runtime: Runtime) -> list[UnitView]:
    async with runtime.db.session() as session:
        units = (await session.scalars(select(UnitRecord).order_by(UnitRecord.call_sign))).all()
    return [
        UnitView(
            id=u.id,
            call_sign=u.call_sign,
            agency=u.agency,
            roles=u.roles,
            capabilities=u.capabilities,
            status=u.status,
            lat=u.lat,
            lon=u.lon,
            location_at=as_utc(u.location_at) if u.location_at else None,
            current_incident_id=u.current_incident_id,
        )
        for u in units
    ]
