"""Loading a roster of responder units (the demo seed; full import comes with unit management)."""

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from schemas.calls import E164
from schemas.vocabulary import Capability, Role, UnitStatus
from services.common.clock import new_id
from services.dispatch.adapters.models import UnitRecord, UnitRoleRecord


class RosterUnit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str | None = None
    call_sign: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    agency: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    roles: Annotated[list[Role], Field(min_length=1)]
    capabilities: list[Capability] = Field(default_factory=list)
    languages: list[Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")]] = Field(
        default_factory=list, description="ISO 639 codes, e.g. en, es"
    )
    phone: E164 | None = None
    status: UnitStatus = UnitStatus.AVAILABLE
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)

    @model_validator(mode="after")
    def _both_coordinates(self) -> "RosterUnit":
        if (self.lat is None) != (self.lon is None):
            raise ValueError("lat and lon: give both or neither")
        return self


class RosterError(ValueError):
    """A roster file that cannot be loaded; the message names the file and the field."""


def read_roster(path: Path) -> list[RosterUnit]:
    try:
        raw = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise RosterError(f"{path}: cannot read roster: {exc}") from exc
    try:
        return TypeAdapter(list[RosterUnit]).validate_python(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise RosterError(f"{path}: [{where}] {err['msg']}") from exc


def new_unit_record(unit: RosterUnit, now: datetime) -> UnitRecord:
    located = unit.lat is not None and unit.lon is not None
    return UnitRecord(
        id=unit.id or new_id(),
        call_sign=unit.call_sign,
        agency=unit.agency,
        role_rows=[UnitRoleRecord(role=r.value) for r in dict.fromkeys(unit.roles)],
        capabilities=[c.value for c in unit.capabilities],
        languages=list(unit.languages),
        phone=unit.phone,
        status=unit.status.value,
        lat=unit.lat,
        lon=unit.lon,
        location_at=now if located else None,
        location_source="manual" if located else None,
        locations={"manual": {"lat": unit.lat, "lon": unit.lon, "at": now.isoformat()}}
        if located
        else {},
        version=1,
        updated_at=now,
    )


async def seed_if_empty(session: AsyncSession, units: list[RosterUnit], now: datetime) -> int:
    """Insert the roster when no unit exists yet; returns how many were added."""
    if await session.scalar(select(func.count()).select_from(UnitRecord)):
        return 0
    for unit in units:
        session.add(new_unit_record(unit, now))
    return len(units)
