"""Keeping one dispatch process's unit index current with its database.

Every session of the dispatch database notes which units its transaction
touched: ORM changes to units, their roles and their exposures (seen at flush),
and bulk ``UPDATE``s of units, which name their unit ids in the execution option
``unit_ids`` (one that does not makes the whole index stale, the safe default).
When the transaction ends, committed or rolled back, those units are re-read
from the database in a session of their own (committed state only) and the
index is updated; a transaction's own uncommitted changes are read in that
transaction and laid over the index for its searches, so a unit freed a moment
ago in the same transaction (a re-plan after a status report) is found.

Other writers — other dispatch replicas, a ``UPDATE`` by hand — are not seen
this way. Every few seconds :meth:`LiveUnitIndex.verify` compares the count of
units, the sum of their versions (bumped on every change) and the count of
exposure rows with the index's; on a difference it reads every unit's id and
version (milliseconds, not the few hundred a full rebuild of 5,000 units takes)
and re-reads only the units that differ, so searches are never held up behind a
rebuild while other replicas write. Between two
checks a replica may choose a unit another replica has just booked: that is
acceptable *only* because the booking itself is the database's conditional
update (free, at the version read) and the partial unique index on live
assignments, which refuse it; the refused unit is then re-read and the next
candidate tried. The index never decides that a unit may be booked.
"""

import asyncio
import json
import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Delete, Insert, Update, event, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from schemas.vocabulary import Role, UnitStatus
from services.common.clock import as_utc
from services.common.db import Database
from services.dispatch.adapters.models import ExposureRecord, UnitRecord, UnitRoleRecord
from services.dispatch.adapters.unit_index import Accept, IndexedUnit, UnitIndex
from services.dispatch.domain.areas import InvalidArea, ServiceArea

log = logging.getLogger(__name__)

INDEX_KEY = "corespond_unit_index"
TOUCHED_KEY = "corespond_touched_units"
# Bulk updates of these tables must say which units they change (``unit_ids``).
_TRACKED_TABLES = frozenset({"units", "unit_roles", "exposures"})
EVERY_UNIT = "*"  # a touched set holding this: units changed that cannot be named


def unit_ids_option(*unit_ids: str) -> dict[str, Any]:
    """Execution options for a bulk ``UPDATE`` of units: which ones it changes."""
    return {"unit_ids": tuple(unit_ids)}


class LiveUnitIndex:
    """The unit index of one process's dispatch database, and what keeps it current."""

    def __init__(self, db: Database) -> None:
        self.index = UnitIndex()
        self._db = db
        self._dirty: set[str] = set()
        self._stale = True  # empty until the first rebuild
        self._lock = asyncio.Lock()
        self._areas: dict[tuple[str | None, str], ServiceArea | None] = {}
        self._refreshing: set[asyncio.Task[None]] = set()

    @classmethod
    def attach(cls, db: Database) -> "LiveUnitIndex":
        """Index ``db``'s units; every session ``db`` makes from now on reports to it."""
        live = cls(db)

        class TrackedSession(Session):
            """A dispatch session whose transactions report the units they touch."""

        event.listen(TrackedSession, "after_flush", _noted_flush)
        event.listen(TrackedSession, "do_orm_execute", _noted_statement)
        event.listen(TrackedSession, "after_commit", _transaction_ended)
        event.listen(TrackedSession, "after_rollback", _transaction_ended)
        db.sessions.configure(sync_session_class=TrackedSession, info={INDEX_KEY: live})
        return live

    @staticmethod
    def of(session: AsyncSession) -> "LiveUnitIndex | None":
        """The index the session's database has, if the process attached one."""
        live = session.info.get(INDEX_KEY)
        return live if isinstance(live, LiveUnitIndex) else None

    # -- what the sessions report -------------------------------------------------

    def units_changed(self, unit_ids: Iterable[str]) -> None:
        """A transaction that touched these units ended: re-read them (soon, and at
        the latest before the next search)."""
        ids = set(unit_ids)
        if EVERY_UNIT in ids:
            self._stale = True
        self._dirty |= ids - {EVERY_UNIT}
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop (a synchronous tool): the next search catches up
        if not self._refreshing:
            task = loop.create_task(self._catch_up_quietly())
            self._refreshing.add(task)
            task.add_done_callback(self._refreshing.discard)

    async def _catch_up_quietly(self) -> None:
        try:
            await self.catch_up()
        except Exception:  # the next search tries again, and raises
            log.warning("unit_index.catch_up_failed", exc_info=True)

    # -- reading the database -----------------------------------------------------

    async def catch_up(self) -> None:
        """Apply what committed transactions changed (or rebuild, when stale). Waits for a
        re-read already under way: its units have left the dirty set but are not in yet."""
        if not self._stale and not self._dirty and not self._lock.locked():
            return
        async with self._lock:
            if self._stale:
                self._stale = False
                self._dirty.clear()
                try:
                    await self._rebuild()
                except BaseException:
                    self._stale = True
                    raise
            elif self._dirty:
                ids, self._dirty = self._dirty, set()
                try:
                    async with self._db.session() as session:
                        found = await self._load(session, ids)
                except BaseException:
                    self._dirty |= ids
                    raise
                for unit_id in ids:
                    unit = found.get(unit_id)
                    if unit is None:
                        self.index.drop(unit_id)
                    else:
                        self.index.put(unit)

    async def verify(self) -> bool:
        """Compare with the database; re-read the units another writer changed.
        True when something differed."""
        await self.catch_up()
        async with self._db.session() as session:
            count, versions = (
                await session.execute(
                    select(
                        func.count(UnitRecord.id), func.coalesce(func.sum(UnitRecord.version), 0)
                    )
                )
            ).one()
            exposures = await session.scalar(select(func.count()).select_from(ExposureRecord))
        index = self.index
        mine = (len(index), index.version_sum, index.exposure_rows + index.other_exposure_rows)
        if (int(count), int(versions), int(exposures or 0)) == mine:
            return False
        # Which units differ, read without the lock: searches go on meanwhile.
        async with self._db.session() as session:
            in_db = dict((await session.execute(select(UnitRecord.id, UnitRecord.version))).all())
            exposed = dict(
                (
                    await session.execute(
                        select(ExposureRecord.unit_id, func.count()).group_by(
                            ExposureRecord.unit_id
                        )
                    )
                ).all()
            )
        changed = index.unit_ids() - set(in_db)
        for unit_id, version in in_db.items():
            unit = index.get(unit_id)
            if (
                unit is None
                or unit.version != version
                or len(unit.exposures) != exposed.get(unit_id, 0)
            ):
                changed.add(unit_id)
        index.other_exposure_rows = sum(n for u, n in exposed.items() if u not in in_db)
        log.info("unit_index.changed_elsewhere", extra={"units": len(changed)})
        self._dirty |= changed
        await self.catch_up()
        return True

    async def _rebuild(self) -> None:
        async with self._db.session() as session:
            units = await self._load(session, None)
            known = await session.scalar(select(func.count()).select_from(ExposureRecord))
        counted = sum(len(u.exposures) for u in units.values())
        self.index.replace_all(units.values(), other_exposure_rows=int(known or 0) - counted)

    async def _load(self, session: AsyncSession, ids: set[str] | None) -> dict[str, IndexedUnit]:
        """Units ``ids`` (None: all) as ``session`` sees them; a missing one is not there."""
        units = select(
            UnitRecord.id,
            UnitRecord.call_sign,
            UnitRecord.agency,
            UnitRecord.lat,
            UnitRecord.lon,
            UnitRecord.version,
            UnitRecord.status,
            UnitRecord.current_assignment_id,
            UnitRecord.sms_opted_out,
            UnitRecord.capabilities,
            UnitRecord.languages,
            UnitRecord.jurisdiction,
            UnitRecord.service_area,
        )
        roles = select(UnitRoleRecord.unit_id, UnitRoleRecord.role)
        exposures = select(ExposureRecord.unit_id, ExposureRecord.at)
        if ids is not None:
            wanted = list(ids)
            units = units.where(UnitRecord.id.in_(wanted))
            roles = roles.where(UnitRoleRecord.unit_id.in_(wanted))
            exposures = exposures.where(ExposureRecord.unit_id.in_(wanted))
        roles_of: dict[str, set[Role]] = {}
        for unit_id, role in (await session.execute(roles)).all():
            roles_of.setdefault(unit_id, set()).add(Role(role))
        exposed: dict[str, list[datetime]] = {}
        for unit_id, at in (await session.execute(exposures)).all():
            exposed.setdefault(unit_id, []).append(as_utc(at))
        found: dict[str, IndexedUnit] = {}
        for row in (await session.execute(units)).all():
            found[row.id] = IndexedUnit(
                id=row.id,
                call_sign=row.call_sign,
                agency=row.agency,
                roles=frozenset(roles_of.get(row.id, ())),
                lat=row.lat,
                lon=row.lon,
                version=row.version,
                free=row.status == UnitStatus.AVAILABLE.value and row.current_assignment_id is None,
                sms_opted_out=bool(row.sms_opted_out),
                capabilities=frozenset(row.capabilities or []),
                languages=frozenset(row.languages or []),
                area=self._area(row.jurisdiction, row.service_area),
                exposures=tuple(exposed.get(row.id, ())),
            )
        return found

    def _area(self, jurisdiction: str | None, geometry: Any) -> ServiceArea | None:
        """One shared object per distinct area, so ranking tests each area once."""
        key = (jurisdiction, json.dumps(geometry, sort_keys=True))
        if key not in self._areas:
            try:
                self._areas[key] = ServiceArea.of(jurisdiction, geometry)
            except InvalidArea:
                # Checked at the edge; a row written around it is treated as jurisdiction only.
                self._areas[key] = ServiceArea.of(jurisdiction)
        return self._areas[key]

    # -- searching ------------------------------------------------------------------

    async def nearest(
        self,
        session: AsyncSession,
        role: Role,
        lat: float | None,
        lon: float | None,
        limit: int,
        accept: list[Accept] | None = None,
    ) -> list[IndexedUnit] | None:
        """Candidates as ``session``'s transaction sees them: the index, with the units the
        transaction itself changed read from it. ``accept``: one search per predicate
        (home units, then the others), each up to ``limit``. None: the transaction
        changed units it cannot name; search the database instead."""
        await self.catch_up()
        overlay = await self._own_changes(session)
        if overlay is None:
            return None
        found: list[IndexedUnit] = []
        for predicate in accept or [None]:  # type: ignore[list-item]
            found += self.index.nearest(role, lat, lon, limit, accept=predicate, overlay=overlay)
        return found

    async def _own_changes(self, session: AsyncSession) -> dict[str, IndexedUnit | None] | None:
        if session.new or session.dirty or session.deleted:
            await session.flush()
        touched: set[str] = session.info.get(TOUCHED_KEY) or set()
        if not touched:
            return {}
        if EVERY_UNIT in touched:
            return None
        found = await self._load(session, touched)
        return {unit_id: found.get(unit_id) for unit_id in touched}


# -- session events (synchronous: they only note ids) --------------------------------


def _touched(session: Session) -> set[str]:
    touched: set[str] = session.info.setdefault(TOUCHED_KEY, set())
    return touched


def _noted_flush(session: Session, _flush: UOWTransaction) -> None:
    touched = _touched(session)
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, UnitRecord):
            touched.add(obj.id)
        elif isinstance(obj, UnitRoleRecord | ExposureRecord):
            touched.add(obj.unit_id)


def _noted_statement(state: ORMExecuteState) -> None:
    statement = state.statement
    if not isinstance(statement, Insert | Update | Delete):
        return
    if getattr(statement.table, "name", None) not in _TRACKED_TABLES:
        return
    named = state.execution_options.get("unit_ids")
    _touched(state.session).update(named if named is not None else (EVERY_UNIT,))


def _transaction_ended(session: Session) -> None:
    touched = session.info.pop(TOUCHED_KEY, None)
    live = session.info.get(INDEX_KEY)
    if touched and isinstance(live, LiveUnitIndex):
        live.units_changed(touched)
