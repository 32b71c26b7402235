"""Recommendation at scale, in process: time to find and rank units for a call, by roster size.

For each roster size a fresh SQLite database gets that many units spread over
the same ~100 km square (so density grows with the roster, as it does when a
region adds units), then calls at random points inside it are recommended
for two roles (police and clinician) exactly as dispatch does: candidates
from the in-memory unit index (what dispatch uses), then the domain's ranking.
The database search by widening bounding boxes (what dispatch used before the
index, and still the reference it is tested against) is timed beside it, with
its query plan, to show it is an index range on (status, latitude) instead of
a read of every unit.
"""

import asyncio
import random
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text

from schemas.vocabulary import Role
from services.common import migrations
from services.common.clock import SystemClock
from services.common.db import Database
from services.dispatch.adapters.candidates import RADII_KM, box_query, nearest_available
from services.dispatch.adapters.roster import RosterUnit, new_unit_record
from services.dispatch.adapters.unit_index_sync import LiveUnitIndex
from services.dispatch.domain.eta import StraightLineEta
from services.dispatch.domain.recommend import Requirement, rank_for_role

CENTRE = (39.7392, -104.9903)
HALF_SIDE_DEG = (0.45, 0.58)  # ~100 km square around the centre
ROLES = (Role.POLICE, Role.CLINICIAN, Role.EMT, Role.TELEHEALTH)
CANDIDATES = 25  # as dispatch asks for


@dataclass(frozen=True)
class SizeFigures:
    units: int
    per_recommendation_ms: list[float]  # with the unit index, as dispatch recommends
    database_search_ms: list[float] = field(default_factory=list)  # without it


@dataclass(frozen=True)
class RecommendationFigures:
    sizes: list[SizeFigures]
    query_plan: str
    database: str = "SQLite"

    def report(self) -> str:
        rows = [f"recommendation (in process, {self.database}, police + clinician per call)"]
        rows.append(
            f"  {'candidates from':<16} {'units':>7}   {'p50':>9}   {'p99':>9}   {'max':>9}   calls"
        )
        for label, timings in (
            ("unit index", [(s.units, s.per_recommendation_ms) for s in self.sizes]),
            ("database search", [(s.units, s.database_search_ms) for s in self.sizes]),
        ):
            for units, figures in timings:
                ordered = sorted(figures)
                if not ordered:
                    continue

                def pct(p: float, ordered: list[float] = ordered) -> float:
                    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]

                rows.append(
                    f"  {label:<16} {units:>7}   {pct(50):6.3f} ms   {pct(99):6.3f} ms   "
                    f"{ordered[-1]:6.3f} ms   {len(ordered)}"
                )
        if self.query_plan:
            rows.append(f"  database search query plan: {self.query_plan}")
        return "\n".join(rows)


def _roster(units: int, rng: random.Random) -> list[RosterUnit]:
    return [
        RosterUnit(
            call_sign=f"U{i:05d}",
            agency="bench",
            roles=[ROLES[i % len(ROLES)]],
            lat=CENTRE[0] + rng.uniform(-HALF_SIDE_DEG[0], HALF_SIDE_DEG[0]),
            lon=CENTRE[1] + rng.uniform(-HALF_SIDE_DEG[1], HALF_SIDE_DEG[1]),
        )
        for i in range(units)
    ]


async def _measure_size(
    directory: Path, units: int, calls: int, postgres_url: str | None = None
) -> tuple[SizeFigures, str]:
    rng = random.Random(units)
    schema = f"bench_units_{uuid.uuid4().hex[:10]}"
    db = (
        Database(_async_url(postgres_url), schema=schema)
        if postgres_url
        else Database(f"sqlite+aiosqlite:///{directory / f'units-{units}.db'}")
    )
    clock = SystemClock()
    eta = StraightLineEta()
    try:
        await migrations.Migrations.of("dispatch").upgrade(db)
        async with db.writing() as session:
            now = clock.now()
            session.add_all(new_unit_record(u, now) for u in _roster(units, rng))
            await session.commit()
        points = [
            (
                CENTRE[0] + rng.uniform(-HALF_SIDE_DEG[0], HALF_SIDE_DEG[0]) * 0.8,
                CENTRE[1] + rng.uniform(-HALF_SIDE_DEG[1], HALF_SIDE_DEG[1]) * 0.8,
            )
            for _ in range(calls)
        ]
        live = LiveUnitIndex.attach(db)
        await live.catch_up()  # dispatch builds it at start
        timings: list[float] = []
        searched: list[float] = []
        async with db.session() as session:
            for lat, lon in points:
                started = time.perf_counter_ns()
                since = clock.now() - timedelta(days=30)
                for role in (Role.POLICE, Role.CLINICIAN):
                    near = await live.nearest(session, role, lat, lon, CANDIDATES)
                    assert near is not None
                    found = [unit.candidate(role, since) for unit in near]
                    rank_for_role(role, found, lat, lon, eta, Requirement())
                timings.append((time.perf_counter_ns() - started) / 1e6)
            for lat, lon in points:
                started = time.perf_counter_ns()
                for role in (Role.POLICE, Role.CLINICIAN):
                    found = await nearest_available(session, role, lat, lon, CANDIDATES, clock)
                    rank_for_role(role, found, lat, lon, eta, Requirement())
                searched.append((time.perf_counter_ns() - started) / 1e6)
            query_plan = ""
            if db.is_sqlite:
                # The plan of the database search, with this size's values.
                compiled = box_query(
                    Role.POLICE, CENTRE[0], CENTRE[1], RADII_KM[1], CANDIDATES
                ).compile(db.engine.sync_engine, compile_kwargs={"literal_binds": True})
                plan = await session.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))
                query_plan = "; ".join(str(row[-1]) for row in plan.all())
        return SizeFigures(units, timings, searched), query_plan
    finally:
        if not db.is_sqlite:
            async with db.engine.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await db.dispose()


def _async_url(url: str) -> str:
    """``postgresql://…`` as the asyncpg URL the services use."""
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+asyncpg://" + url[len(plain) :]
    return url


async def _measure(
    sizes: tuple[int, ...], calls: int, postgres_url: str | None
) -> RecommendationFigures:
    figures: list[SizeFigures] = []
    plan = ""
    with tempfile.TemporaryDirectory(prefix="corespond-bench-units-") as tmp:
        for units in sizes:
            size, plan = await _measure_size(Path(tmp), units, calls, postgres_url)
            figures.append(size)
    return RecommendationFigures(figures, plan, "PostgreSQL" if postgres_url else "SQLite")


def measure_recommendation(
    sizes: tuple[int, ...] = (50, 5_000), calls: int = 300, postgres_url: str | None = None
) -> RecommendationFigures:
    """Per roster size, on SQLite, or on PostgreSQL at ``postgres_url`` (a fresh schema,
    dropped afterwards)."""
    return asyncio.run(_measure(sizes, calls, postgres_url))
