"""Finding candidate units in the database: available, able to fill a role, nearest first.

The database orders by an equirectangular distance (accurate to well under a
percent at city scale) and returns only the nearest few, so recommending does
not load every unit; the exact ETA of those few is then the domain's job.
"""

import math

from sqlalchemy import ColumnElement, and_, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from schemas.vocabulary import Role
from services.dispatch.adapters.models import UnitRecord, UnitRoleRecord
from services.dispatch.domain.recommend import UnitCandidate

AVAILABLE = "available"


async def nearest_available(
    session: AsyncSession, role: Role, lat: float | None, lon: float | None, limit: int
) -> list[tuple[UnitCandidate, int]]:
    """Up to ``limit`` available units that can fill ``role``, with their row versions."""
    query = (
        select(
            UnitRecord.id, UnitRecord.call_sign, UnitRecord.lat, UnitRecord.lon, UnitRecord.version
        )
        .join(
            UnitRoleRecord,
            and_(UnitRoleRecord.unit_id == UnitRecord.id, UnitRoleRecord.role == role.value),
        )
        .where(UnitRecord.status == AVAILABLE)
        .limit(limit)
    )
    if lat is not None and lon is not None and role != Role.TELEHEALTH:
        query = query.order_by(
            UnitRecord.lat.is_(None), _distance_sq(lat, lon), UnitRecord.call_sign
        )
    else:
        query = query.order_by(UnitRecord.call_sign)
    rows = (await session.execute(query)).all()
    return [
        (UnitCandidate(unit_id, call_sign, frozenset({role}), u_lat, u_lon), version)
        for unit_id, call_sign, u_lat, u_lon, version in rows
    ]


def _distance_sq(lat: float, lon: float) -> ColumnElement[float | None]:
    scale = math.cos(math.radians(lat))
    d_lat = UnitRecord.lat - literal(lat)
    d_lon = (UnitRecord.lon - literal(lon)) * literal(scale)
    return d_lat * d_lat + d_lon * d_lon
