"""The in-memory unit index chooses what the database search would, and follows the database.

It gives the same candidates as the database search over a mixed roster; a
transaction sees its own uncommitted bookings and releases, others see them
once committed; a rolled-back change leaves it as it was; a change made by
another process (a replica) is found by the periodic check. Real SQLite and
PostgreSQL.
"""

import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest_asyncio
from sqlalchemy import select, update

from schemas.vocabulary import Role, UnitStatus
from services.common import migrations
from services.common.clock import SystemClock
from services.common.db import Database
from services.dispatch.adapters.candidates import nearest_available
from services.dispatch.adapters.models import ExposureRecord, UnitRecord
from services.dispatch.adapters.roster import RosterUnit, new_unit_record
from services.dispatch.adapters.unit_index_sync import LiveUnitIndex, unit_ids_option
from tests.support.databases import DatabaseTarget

CENTRE = (39.7392, -104.9903)
LIMIT = 25


def _roster(rng: random.Random, count: int) -> list[RosterUnit]:
    roles = [[Role.POLICE], [Role.CLINICIAN], [Role.POLICE, Role.CLINICIAN], [Role.TELEHEALTH]]
    statuses = [UnitStatus.AVAILABLE] * 6 + [UnitStatus.OFF_DUTY, UnitStatus.EN_ROUTE]
    units = []
    for i in range(count):
        placed = rng.random() > 0.1
        units.append(
            RosterUnit(
                call_sign=f"U{i:04d}",
                agency="test",
                roles=rng.choice(roles),
                status=rng.choice(statuses),
                lat=CENTRE[0] + rng.uniform(-0.5, 0.5) if placed else None,
                lon=CENTRE[1] + rng.uniform(-0.6, 0.6) if placed else None,
            )
        )
    return units


async def _seed(db: Database, units: list[RosterUnit]) -> None:
    async with db.writing() as session:
        now = datetime.now(UTC)
        session.add_all(new_unit_record(u, now) for u in units)
        await session.commit()


@pytest_asyncio.fixture
async def dispatch_db(database: DatabaseTarget) -> AsyncIterator[Database]:
    db = Database(database.url("dispatch"), schema=database.schema("dispatch"))
    await migrations.Migrations.of("dispatch").upgrade(db)
    try:
        yield db
    finally:
        await db.dispose()


async def _ids(live: LiveUnitIndex, db: Database, role: Role, at: tuple[float, float]) -> set[str]:
    async with db.session() as session:
        found = await live.nearest(session, role, at[0], at[1], LIMIT)
    assert found is not None
    return {u.id for u in found}


async def _unit_id(db: Database, call_sign: str) -> str:
    async with db.session() as session:
        unit_id = await session.scalar(
            select(UnitRecord.id).where(UnitRecord.call_sign == call_sign)
        )
    assert unit_id is not None
    return unit_id


async def test_the_index_chooses_the_candidates_the_database_search_would(
    dispatch_db: Database,
) -> None:
    rng = random.Random(16)
    # A sparse roster (the search widens to the largest box) and a dense one.
    await _seed(dispatch_db, _roster(rng, 400))
    live = LiveUnitIndex.attach(dispatch_db)
    clock = SystemClock()
    async with dispatch_db.session() as session:
        for _ in range(25):
            lat = CENTRE[0] + rng.uniform(-0.5, 0.5)
            lon = CENTRE[1] + rng.uniform(-0.6, 0.6)
            for role in (Role.POLICE, Role.CLINICIAN, Role.TELEHEALTH):
                indexed = await live.nearest(session, role, lat, lon, LIMIT)
                searched = await nearest_available(session, role, lat, lon, LIMIT, clock)
                assert indexed is not None
                assert [u.id for u in indexed] == [c.unit_id for c in searched]
                assert [u.version for u in indexed] == [c.version for c in searched]
        for limit in (3, 200):  # few wanted: the small box; many: everything, unplaced last
            indexed = await live.nearest(session, Role.POLICE, *CENTRE, limit)
            searched = await nearest_available(session, Role.POLICE, *CENTRE, limit, clock)
            assert indexed is not None
            assert [u.id for u in indexed] == [c.unit_id for c in searched]


def _book(unit_id: str) -> object:
    return (
        update(UnitRecord)
        .where(UnitRecord.id == unit_id, UnitRecord.current_assignment_id.is_(None))
        .values(version=UnitRecord.version + 1, current_assignment_id="a-1")
        .execution_options(synchronize_session=False, **unit_ids_option(unit_id))
    )


async def test_a_transaction_sees_its_own_booking_and_others_see_it_once_committed(
    dispatch_db: Database,
) -> None:
    await _seed(
        dispatch_db,
        [
            RosterUnit(call_sign="1A21", agency="DPD", roles=[Role.POLICE], lat=39.74, lon=-105.0),
            RosterUnit(call_sign="1A22", agency="DPD", roles=[Role.POLICE], lat=39.75, lon=-105.0),
        ],
    )
    live = LiveUnitIndex.attach(dispatch_db)
    ids = await _ids(live, dispatch_db, Role.POLICE, CENTRE)
    assert len(ids) == 2
    booked = await _unit_id(dispatch_db, "1A21")
    async with dispatch_db.writing() as session:
        await session.execute(_book(booked))  # type: ignore[call-overload]
        mine = await live.nearest(session, Role.POLICE, *CENTRE, LIMIT)
        assert mine is not None
        assert booked not in {u.id for u in mine}  # this transaction's own booking
        # Not committed yet: any other transaction still sees the unit free.
        assert booked in await _ids(live, dispatch_db, Role.POLICE, CENTRE)
        await session.commit()
    assert booked not in await _ids(live, dispatch_db, Role.POLICE, CENTRE)
    assert live.index.get(booked) is not None
    assert not live.index.get(booked).free  # type: ignore[union-attr]

    # A release that rolls back changes nothing.
    async with dispatch_db.writing() as session:
        await session.execute(
            update(UnitRecord)
            .where(UnitRecord.id == booked)
            .values(version=UnitRecord.version + 1, current_assignment_id=None)
            .execution_options(**unit_ids_option(booked))
        )
        mine = await live.nearest(session, Role.POLICE, *CENTRE, LIMIT)
        assert mine is not None
        assert booked in {u.id for u in mine}
        await session.rollback()
    assert booked not in await _ids(live, dispatch_db, Role.POLICE, CENTRE)
    assert not await live.verify()  # nothing changed behind its back


async def test_a_booking_by_another_replica_is_found_by_the_periodic_check(
    dispatch_db: Database, database: DatabaseTarget
) -> None:
    await _seed(
        dispatch_db,
        [RosterUnit(call_sign="1A21", agency="DPD", roles=[Role.POLICE], lat=39.74, lon=-105.0)],
    )
    live = LiveUnitIndex.attach(dispatch_db)
    [unit_id] = await _ids(live, dispatch_db, Role.POLICE, CENTRE)
    other = Database(database.url("dispatch"), schema=database.schema("dispatch"))
    try:
        async with other.writing() as session:
            await session.execute(_book(unit_id))  # type: ignore[call-overload]
            # A critical incident it worked, counted by the other replica's close.
            session.add(
                ExposureRecord(
                    unit_id=unit_id, incident_id="i-1", kinds=["violent"], at=datetime.now(UTC)
                )
            )
            await session.commit()
    finally:
        await other.dispose()
    # Stale until checked: acceptable only because the booking is decided by the
    # database (the conditional update above would now match no row).
    assert unit_id in await _ids(live, dispatch_db, Role.POLICE, CENTRE)
    assert await live.verify()
    assert unit_id not in await _ids(live, dispatch_db, Role.POLICE, CENTRE)
    seen = live.index.get(unit_id)
    assert seen is not None
    assert len(seen.exposures) == 1
    assert not await live.verify()  # now the same as the database
