"""Finding candidate units in the database: free, able to fill a role, nearest first.

The search widens a bounding box around the incident (2, 8, 32, 128 km) and
asks the database for the nearest few inside it, using the index on latitude,
so recommending with thousands of units reads a small neighbourhood instead
of every unit. Units with no known location are only looked at when the boxes
found too few; a unit beyond the widest box is hours away and never offered.
This is the search without the in-memory index (``unit_index``), which dispatch
uses when a process has one; it is kept as the reference the index is tested
against and measured beside. Each candidate comes with its row version (for the conditional
booking) and its critical-incident count in the well-being window.
"""

import math
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, and_, exists, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from schemas.vocabulary import Role, UnitStatus
from services.common.clock import Clock
from services.dispatch.adapters.models import ExposureRecord, UnitRecord, UnitRoleRecord
from services.dispatch.domain.areas import InvalidArea, ServiceArea
from services.dispatch.domain.recommend import UnitCandidate

RADII_KM = (2.0, 8.0, 32.0, 128.0)
KM_PER_DEGREE = 111.32


_COLUMNS = (
    UnitRecord.id,
    UnitRecord.call_sign,
    UnitRecord.lat,
    UnitRecord.lon,
    UnitRecord.version,
    UnitRecord.capabilities,
    UnitRecord.languages,
    UnitRecord.agency,
    UnitRecord.jurisdiction,
    UnitRecord.service_area,
)


def _free_for(role: Role, *, reachable_by_sms: bool = True) -> Select[*tuple[Any, ...]]:
    """Free units for ``role``; with ``reachable_by_sms``, not those whose phone sent STOP
    (an automatic offer goes by SMS and would never arrive; a dispatcher may still
    send one by hand, by radio)."""
    # Plain columns, not ORM objects: no identity map, no second query for roles.
    query = (
        select(*_COLUMNS)
        .join(
            UnitRoleRecord,
            and_(UnitRoleRecord.unit_id == UnitRecord.id, UnitRoleRecord.role == role.value),
        )
        .where(
            UnitRecord.status == UnitStatus.AVAILABLE.value,
            UnitRecord.current_assignment_id.is_(None),
        )
    )
    if reachable_by_sms:
        query = query.where(UnitRecord.sms_opted_out.is_(False))
    return query


def box_query(
    role: Role, lat: float, lon: float, radius_km: float, limit: int
) -> Select[*tuple[Any, ...]]:
    """The nearest ``limit`` free units for ``role`` within a box of ``radius_km``."""
    d_lat = radius_km / KM_PER_DEGREE
    d_lon = radius_km / (KM_PER_DEGREE * max(math.cos(math.radians(lat)), 0.01))
    return _flag_police(
        _free_for(role)
        .where(
            UnitRecord.lat.between(lat - d_lat, lat + d_lat),
            UnitRecord.lon.between(lon - d_lon, lon + d_lon),
        )
        .order_by(_distance_sq(lat, lon), UnitRecord.call_sign)
        .limit(limit)
    )


def _flag_police(query: Select[*tuple[Any, ...]]) -> Select[*tuple[Any, ...]]:
    """Add whether each unit can also fill ``police``, for the few rows the search kept
    (ranking must know if sending it brings an officer). Outside the search, so it is
    not evaluated for every unit of the band."""
    found = query.subquery()
    is_police = (
        exists()
        .where(UnitRoleRecord.unit_id == found.c.id, UnitRoleRecord.role == Role.POLICE.value)
        .label("is_police")
    )
    return select(found, is_police)


async def nearest_available(
    session: AsyncSession,
    role: Role,
    lat: float | None,
    lon: float | None,
    limit: int,
    clock: Clock,
    window_days: int = 30,
) -> list[UnitCandidate]:
    """Up to ``limit`` free units that can fill ``role``, nearest first."""
    rows: list[Row[Any]] = []
    if lat is not None and lon is not None and role != Role.TELEHEALTH:
        for radius in RADII_KM:
            query = box_query(role, lat, lon, radius, limit)
            rows = list((await session.execute(query)).all())
            if len(rows) >= limit:
                break
        if len(rows) < limit:
            # Units with no known location: better offered last than not at all.
            # (Beyond the widest box a unit is hours away; it is not a candidate.)
            unplaced = _free_for(role).where(UnitRecord.lat.is_(None))
            unplaced = unplaced.order_by(UnitRecord.call_sign).limit(limit - len(rows))
            rows += (await session.execute(_flag_police(unplaced))).all()
    else:
        query = _free_for(role).order_by(UnitRecord.call_sign).limit(limit)
        rows = list((await session.execute(_flag_police(query))).all())
    exposures = await _exposures(session, [row.id for row in rows], clock, window_days)
    return [_candidate(row, role, exposures) for row in rows]


async def free_units(
    session: AsyncSession,
    role: Role,
    unit_ids: list[str],
    clock: Clock,
    window_days: int = 30,
) -> list[UnitCandidate]:
    """The units among ``unit_ids`` that are free and can fill ``role``, wherever they are:
    a dispatcher's pick is looked up by id, not searched for around the incident."""
    if not unit_ids:
        return []
    query = _free_for(role, reachable_by_sms=False).where(UnitRecord.id.in_(unit_ids))
    rows = list((await session.execute(_flag_police(query))).all())
    exposures = await _exposures(session, [row.id for row in rows], clock, window_days)
    return [_candidate(row, role, exposures) for row in rows]


def _candidate(row: Row[Any], role: Role, exposures: dict[str, int]) -> UnitCandidate:
    return UnitCandidate(
        unit_id=row.id,
        call_sign=row.call_sign,
        # The role asked for, and police if it is one: ranking needs to know
        # whether sending it brings an officer.
        roles=frozenset({role, Role.POLICE} if row.is_police else {role}),
        lat=row.lat,
        lon=row.lon,
        version=row.version,
        capabilities=frozenset(row.capabilities or []),
        languages=frozenset(row.languages or []),
        exposures=exposures.get(row.id, 0),
        agency=row.agency,
        area=_area(row.jurisdiction, row.service_area),
    )


def _area(jurisdiction: str | None, geometry: Any) -> ServiceArea | None:
    try:
        return ServiceArea.of(jurisdiction, geometry)
    except InvalidArea:
        return ServiceArea.of(jurisdiction)  # checked at the edge; treat as jurisdiction only


async def _exposures(
    session: AsyncSession, unit_ids: list[str], clock: Clock, window_days: int
) -> dict[str, int]:
    if not unit_ids:
        return {}
    since = clock.now() - timedelta(days=window_days)
    rows = await session.execute(
        select(ExposureRecord.unit_id, func.count())
        .where(ExposureRecord.unit_id.in_(unit_ids), ExposureRecord.at >= since)
        .group_by(ExposureRecord.unit_id)
    )
    return {unit_id: int(count) for unit_id, count in rows.all()}


def _distance_sq(lat: float, lon: float) -> ColumnElement[float | None]:
    scale = math.cos(math.radians(lat))
    d_lat = UnitRecord.lat - literal(lat)
    d_lon = (UnitRecord.lon - literal(lon)) * literal(scale)
    return d_lat * d_lat + d_lon * d_lon
