"""Rosters of responder units: the shape of one unit, reading JSON and CSV files, seeding.

A roster file is checked whole before anything is used: every bad row is
reported with its row number and field, so an import either has nothing to
fix or writes nothing. CSV lists (roles, capabilities, languages) are
separated by ``;`` within a cell.

Service areas: each unit may name the ``jurisdiction`` its agency serves and a
GeoJSON ``service_area`` (Polygon or MultiPolygon; in CSV, the GeoJSON text in
the cell). A JSON roster may instead be ``{"agencies": {name: {"jurisdiction":
..., "service_area": ...}}, "units": [...]}``: each unit without its own area
takes its agency's.
"""

import csv
import io
import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from schemas.calls import E164, Latitude, Longitude
from schemas.languages import LanguageTag
from schemas.text import ONE_LINE
from schemas.vocabulary import Capability, Role, UnitStatus
from services.common.clock import new_id
from services.dispatch.adapters.models import UnitRecord, UnitRoleRecord
from services.dispatch.domain.areas import InvalidArea, parse_geometry

Jurisdiction = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]


def checked_area(value: dict[str, Any] | None) -> dict[str, Any] | None:
    """A GeoJSON Polygon/MultiPolygon (or a Feature of one), kept as given once it parses."""
    if value is not None:
        try:
            parse_geometry(value)
        except InvalidArea as exc:
            raise ValueError(str(exc)) from exc
    return value


class RosterUnit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Annotated[str, StringConstraints(min_length=1, max_length=64), ONE_LINE] | None = None
    call_sign: Annotated[str, StringConstraints(min_length=1, max_length=32), ONE_LINE]
    agency: Annotated[str, StringConstraints(min_length=1, max_length=64), ONE_LINE]
    roles: Annotated[list[Role], Field(min_length=1)]
    capabilities: list[Capability] = Field(default_factory=list)
    languages: list[LanguageTag] = Field(
        default_factory=list, description="BCP 47 language tags, e.g. en, es, vi"
    )
    phone: E164 | None = None
    status: UnitStatus = UnitStatus.AVAILABLE
    lat: Latitude | None = None
    lon: Longitude | None = None
    jurisdiction: Jurisdiction | None = Field(
        default=None,
        description="the policy jurisdiction the unit's agency serves (outside it: mutual aid)",
    )
    service_area: dict[str, Any] | None = Field(
        default=None, description="GeoJSON Polygon or MultiPolygon the agency serves"
    )

    _area = field_validator("service_area")(checked_area)

    @model_validator(mode="after")
    def _both_coordinates(self) -> "RosterUnit":
        if (self.lat is None) != (self.lon is None):
            raise ValueError("lat and lon: give both or neither")
        return self


class RosterError(ValueError):
    """A roster file that cannot be loaded; the message names the file and the field."""


CSV_LIST_FIELDS = ("roles", "capabilities", "languages")


def read_roster(path: Path) -> list[RosterUnit]:
    """Every unit of a ``.json`` (a list of objects) or ``.csv`` roster, or every problem."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise RosterError(f"{path}: cannot read roster: {exc.strerror or exc}") from exc
    if path.suffix.lower() == ".csv":
        rows = _csv_rows(text)
        first_row = 2  # line 1 is the header
    else:
        try:
            rows = json.loads(text)
        except json.JSONDecodeError as exc:
            raise RosterError(f"{path}: not valid JSON: {exc}") from exc
        if isinstance(rows, dict) and "units" in rows:
            rows = _with_agency_areas(path, rows)
        if not isinstance(rows, list):
            raise RosterError(f"{path}: expected a list of units (or agencies and units)")
        first_row = 1
    units: list[RosterUnit] = []
    problems: list[str] = []
    first_seen: dict[str, int] = {}
    for number, row in enumerate(rows, start=first_row):
        try:
            unit = RosterUnit.model_validate(row)
        except ValidationError as exc:
            for err in exc.errors():
                where = ".".join(str(p) for p in err["loc"]) or "(unit)"
                problems.append(f"{path}: row {number}: {where}: {err['msg']}")
            continue
        if unit.call_sign in first_seen:
            again = first_seen[unit.call_sign]
            problems.append(
                f"{path}: row {number}: call_sign: {unit.call_sign!r} repeats row {again}"
            )
        first_seen.setdefault(unit.call_sign, number)
        units.append(unit)
    if problems:
        raise RosterError("\n".join(problems))
    if not units:
        raise RosterError(f"{path}: no units")
    return units


def _with_agency_areas(path: Path, roster: dict[str, Any]) -> Any:
    """Units of ``{"agencies": ..., "units": [...]}``, each given its agency's area
    unless it has its own."""
    agencies = roster.get("agencies") or {}
    if not isinstance(agencies, dict):
        raise RosterError(f"{path}: agencies: expected an object keyed by agency name")
    problems: list[str] = []
    for name, area in agencies.items():
        if not isinstance(area, dict) or set(area) - {"jurisdiction", "service_area"}:
            problems.append(f"{path}: agencies.{name}: expected jurisdiction and service_area")
    if problems:
        raise RosterError("\n".join(problems))
    units = roster["units"]
    if not isinstance(units, list):
        return units
    filled = []
    for row in units:
        area = agencies.get(row.get("agency")) if isinstance(row, dict) else None
        if area and not ({"jurisdiction", "service_area"} & set(row)):
            row = {**area, **row}
        filled.append(row)
    return filled


def _csv_rows(text: str) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for raw in csv.DictReader(io.StringIO(text)):
        row: dict[str, object] = {k.strip(): (v or "").strip() for k, v in raw.items() if k}
        for name in CSV_LIST_FIELDS:
            if name in row:
                row[name] = [part.strip() for part in str(row[name]).split(";") if part.strip()]
        for name in ("lat", "lon", "phone", "id", "jurisdiction", "service_area"):
            if row.get(name) == "":
                row[name] = None
        if isinstance(row.get("service_area"), str):
            try:
                row["service_area"] = json.loads(str(row["service_area"]))
            except json.JSONDecodeError:
                pass  # stays text: validation names the field
        # CSV has no numbers; the model takes JSON numbers only. Anything that is
        # not one stays text, so validation names the field.
        for name in ("lat", "lon"):
            try:
                row[name] = float(str(row[name])) if row.get(name) is not None else None
            except ValueError:
                pass
        if row.get("status") == "":
            row.pop("status")
        rows.append(row)
    return rows


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
        jurisdiction=unit.jurisdiction,
        service_area=unit.service_area,
    )


async def seed_if_empty(session: AsyncSession, units: list[RosterUnit], now: datetime) -> int:
    """Insert the roster when no unit exists yet; returns how many were added."""
    if await session.scalar(select(func.count()).select_from(UnitRecord)):
        return 0
    for unit in units:
        session.add(new_unit_record(unit, now))
    return len(units)
