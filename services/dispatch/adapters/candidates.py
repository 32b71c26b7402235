"""Finding candidate units in the database: free, able to fill a role, nearest first.

The search widens a bounding box around the incident (2, 8, 32, 128 km) and
asks the database for the nearest few inside it, using the index on latitude,
so recommending with thousands of units reads a small neighbourhood instead
of every unit. Units with no known location are only looked at when the boxes
found too few. Each candidate comes with its row version (for the conditional
booking) and its critical-incident count in the well-being window.
"""

import math
from datetime import timedelta

from sqlalchemy import ColumnElement, Select, and_, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from schemas.vocabulary import Role, UnitStatus
from services.common.clock import Clock
from services.dispatch.adapters.models import ExposureRecord, UnitRecord, UnitRoleRecord
from services.dispatch.domain.recommend import UnitCandidate

RADII_KM = (2.0, 8.0, 32.0, 128.0)
KM_PER_DEGREE = 111.32


def _free_for(role: Role) -> Select[UnitRecord]:
    return (
        select(UnitRecord)
        .join(
            UnitRoleRecord,
            and_(UnitRoleRecord.unit_id == UnitRecord.id, UnitRoleRecord.role == role.value),
        )
        .where(
            UnitRecord.status == UnitStatus.AVAILABLE.value,
            UnitRecord.current_assignment_id.is_(None),
        )
    )


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
    units: list[UnitRecord] = []
    if lat is not None and lon is not None and role != Role.TELEHEALTH:
        for radius in RADII_KM:
            d_lat = radius / KM_PER_DEGREE
            d_lon = radius / (KM_PER_DEGREE * max(math.cos(math.radians(lat)), 0.01))
            query = (
                _free_for(role)
                .where(
                    UnitRecord.lat.between(lat - d_lat, lat + d_lat),
                    UnitRecord.lon.between(lon - d_lon, lon + d_lon),
                )
                .order_by(_distance_sq(lat, lon), UnitRecord.call_sign)
                .limit(limit)
            )
            units = list((await session.scalars(query)).all())
            if len(units) >= limit:
                break
        if len(units) < limit:
            # Far away or with no location: better offered last than not at all.
            seen = {u.id for u in units}
            rest = await session.scalars(
                _free_for(role)
                .order_by(UnitRecord.lat.is_(None), _distance_sq(lat, lon), UnitRecord.call_sign)
                .limit(limit + len(seen))
            )
            units += [u for u in rest.all() if u.id not in seen][: limit - len(units)]
    else:
        units = list(
            (
                await session.scalars(_free_for(role).order_by(UnitRecord.call_sign).limit(limit))
            ).all()
        )
    exposures = await _exposures(session, [u.id for u in units], clock, window_days)
    return [
        UnitCandidate(
            unit_id=u.id,
            call_sign=u.call_sign,
            roles=frozenset(Role(r) for r in u.roles),
            lat=u.lat,
            lon=u.lon,
            version=u.version,
            capabilities=frozenset(u.capabilities or []),
            languages=frozenset(u.languages or []),
            exposures=exposures.get(u.id, 0),
        )
        for u in units
    ]


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
