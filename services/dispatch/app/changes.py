"""Reading what changed since a client's cursor, for the live-updates stream.

Everything comes from the database (the timeline's increasing ids, the units'
``updated_at``), never from process memory, so a client gets the same stream
from whichever dispatch replica it reaches.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.clock import as_utc
from services.dispatch.adapters.models import TimelineRecord, UnitRecord
from services.dispatch.domain.change_feed import ChangeCursor

# Rows read per poll; a client far behind catches up over several polls.
BATCH = 2000


@dataclass(frozen=True)
class IncidentChanges:
    cursor: ChangeCursor
    incident_ids: list[str]


async def latest_position(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.coalesce(func.max(TimelineRecord.id), 0))) or 0)


async def incident_changes(session: AsyncSession, cursor: ChangeCursor) -> IncidentChanges:
    """The incidents with timeline rows the cursor has not seen, and the cursor past them."""
    wanted = TimelineRecord.id > cursor.position
    if cursor.pending:
        wanted = or_(wanted, TimelineRecord.id.in_(list(cursor.pending)))
    rows = (
        await session.execute(
            select(TimelineRecord.id, TimelineRecord.incident_id)
            .where(wanted)
            .order_by(TimelineRecord.id)
            .limit(BATCH)
        )
    ).all()
    incident_ids = list(dict.fromkeys(incident_id for _, incident_id in rows))
    return IncidentChanges(cursor.after(row_id for row_id, _ in rows), incident_ids)


async def units_changed_since(
    session: AsyncSession, since: datetime | None
) -> tuple[datetime | None, list[str]]:
    """Units whose row changed after ``since`` (status, location, assignment), and the newest time.

    Unit changes are not on the timeline (a location ping is not an incident
    step), so they are found by ``updated_at``; a client that reconnects
    reloads the board, so this cursor need not survive a reconnect.
    """
    if since is None:
        newest = await session.scalar(select(func.max(UnitRecord.updated_at)))
        return (as_utc(newest) if newest else None), []
    rows = (
        await session.execute(
            select(UnitRecord.id, UnitRecord.updated_at).where(UnitRecord.updated_at > since)
        )
    ).all()
    times = [as_utc(at) for _, at in rows if at is not None]
    if not times:
        return since, []
    return max(times), [unit_id for unit_id, _ in rows]
