"""An in-memory index of units: the free ones per role in a grid of cells, searched nearest first.

Choosing candidates from the database cost 9 to 36 ms a recommendation (a query per
box size per role, through aiosqlite's thread hop); the same search in memory
costs tens of microseconds. The index is only for *choosing* candidates: every
booking is still the database's conditional update (free, at the version read),
so a stale entry costs a failed booking and the next candidate, never a unit
booked twice. ``unit_index_sync`` keeps it current; this module is the structure
and the search, with no I/O.

The search gives what the database search (``candidates.nearest_available``)
gives: the nearest ``limit`` free units inside a box of 2, 8, 32, then 128 km,
widening until the box holds enough, ordered by the same flat distance and then
call sign; units with no known location after them, by call sign.
"""

import heapq
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from schemas.vocabulary import Role
from services.dispatch.domain.areas import ServiceArea
from services.dispatch.domain.recommend import UnitCandidate

RADII_KM = (2.0, 8.0, 32.0, 128.0)
KM_PER_DEGREE = 111.32
# About 2 km: a 2 km box reads a handful of cells, the 128 km box of a sparse
# roster reads the occupied cells instead of every possible one.
CELL_DEG = 0.02


@dataclass(frozen=True)
class IndexedUnit:
    """What candidate choice needs to know of a unit, as last read from the database."""

    id: str
    call_sign: str
    agency: str
    roles: frozenset[Role]
    lat: float | None
    lon: float | None
    version: int
    # Available and holding no assignment: the same test the booking makes.
    free: bool
    sms_opted_out: bool = False
    capabilities: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    area: ServiceArea | None = None
    exposures: tuple[datetime, ...] = ()

    def candidate(self, role: Role, since: datetime) -> UnitCandidate:
        return UnitCandidate(
            unit_id=self.id,
            call_sign=self.call_sign,
            # The role asked for, and police if it is one: ranking needs to know
            # whether sending it brings an officer.
            roles=frozenset({role, Role.POLICE} if Role.POLICE in self.roles else {role}),
            lat=self.lat,
            lon=self.lon,
            version=self.version,
            capabilities=self.capabilities,
            languages=self.languages,
            exposures=sum(1 for at in self.exposures if at >= since) if self.exposures else 0,
            agency=self.agency,
            area=self.area,
        )


Accept = Callable[[IndexedUnit], bool]
Cell = tuple[int, int]


def _cell(lat: float, lon: float) -> Cell:
    return math.floor(lat / CELL_DEG), math.floor(lon / CELL_DEG)


class UnitIndex:
    """Every unit by id; the free ones per role by grid cell (located) or apart (not)."""

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._units: dict[str, IndexedUnit] = {}
        self._free: dict[Role, dict[str, IndexedUnit]] = {role: {} for role in Role}
        self._cells: dict[Role, dict[Cell, dict[str, IndexedUnit]]] = {role: {} for role in Role}
        self._unplaced: dict[Role, dict[str, IndexedUnit]] = {role: {} for role in Role}
        # Sums the database is compared with to notice changes made elsewhere.
        self.version_sum = 0
        self.exposure_rows = 0  # of the units indexed
        self.other_exposure_rows = 0  # of no known unit
        self._with_area = 0

    def __len__(self) -> int:
        return len(self._units)

    def __contains__(self, unit_id: object) -> bool:
        return unit_id in self._units

    def get(self, unit_id: str) -> IndexedUnit | None:
        return self._units.get(unit_id)

    def unit_ids(self) -> set[str]:
        return set(self._units)

    @property
    def has_areas(self) -> bool:
        """Whether any unit has a service area (else every unit is home everywhere)."""
        return self._with_area > 0

    def replace_all(self, units: Iterable[IndexedUnit], other_exposure_rows: int = 0) -> None:
        """Start again from ``units``; ``other_exposure_rows``: exposure rows of no known unit."""
        self._reset()
        for unit in units:
            self.put(unit)
        self.other_exposure_rows = other_exposure_rows

    def put(self, unit: IndexedUnit) -> None:
        self.drop(unit.id)
        self._units[unit.id] = unit
        self.version_sum += unit.version
        self.exposure_rows += len(unit.exposures)
        self._with_area += unit.area is not None
        if not unit.free:
            return
        for role in unit.roles:
            self._free[role][unit.id] = unit
            if unit.lat is None or unit.lon is None:
                self._unplaced[role][unit.id] = unit
            else:
                self._cells[role].setdefault(_cell(unit.lat, unit.lon), {})[unit.id] = unit

    def drop(self, unit_id: str) -> None:
        unit = self._units.pop(unit_id, None)
        if unit is None:
            return
        self.version_sum -= unit.version
        self.exposure_rows -= len(unit.exposures)
        self._with_area -= unit.area is not None
        for role in unit.roles:
            self._free[role].pop(unit_id, None)
            self._unplaced[role].pop(unit_id, None)
            if unit.lat is not None and unit.lon is not None:
                cell = _cell(unit.lat, unit.lon)
                bucket = self._cells[role].get(cell)
                if bucket is not None:
                    bucket.pop(unit_id, None)
                    if not bucket:
                        del self._cells[role][cell]

    def nearest(
        self,
        role: Role,
        lat: float | None,
        lon: float | None,
        limit: int,
        *,
        reachable_by_sms: bool = True,
        accept: Accept | None = None,
        overlay: Mapping[str, IndexedUnit | None] | None = None,
    ) -> list[IndexedUnit]:
        """Up to ``limit`` free units for ``role``, nearest first.

        ``accept``: only units it says yes to (e.g. home units). ``overlay``: the
        units a transaction has changed but not committed, as that transaction
        sees them (None: deleted); they replace the index's entries."""
        changed = overlay or {}

        def ok(unit: IndexedUnit) -> bool:
            return (
                (not reachable_by_sms or not unit.sms_opted_out)
                and (accept is None or accept(unit))
                and unit.id not in changed
            )

        mine = [
            u
            for u in changed.values()
            if u is not None
            and u.free
            and role in u.roles
            and (not reachable_by_sms or not u.sms_opted_out)
            and (accept is None or accept(u))
        ]
        if lat is None or lon is None or role == Role.TELEHEALTH:
            pool = [u for u in self._free[role].values() if ok(u)] + mine
            return heapq.nsmallest(limit, pool, key=lambda u: u.call_sign)
        found: list[IndexedUnit] = []
        for radius in RADII_KM:
            found = self._in_box(role, lat, lon, radius, ok, mine)
            if len(found) >= limit:
                break
        scale = math.cos(math.radians(lat))

        def distance(u: IndexedUnit) -> tuple[float, str]:
            assert u.lat is not None
            assert u.lon is not None
            d_lat, d_lon = u.lat - lat, (u.lon - lon) * scale
            return d_lat * d_lat + d_lon * d_lon, u.call_sign

        nearest = heapq.nsmallest(limit, found, key=distance)
        if len(nearest) < limit:
            # Units with no known location: better offered last than not at all.
            unplaced = [u for u in self._unplaced[role].values() if ok(u)]
            unplaced += [u for u in mine if u.lat is None or u.lon is None]
            nearest += heapq.nsmallest(limit - len(nearest), unplaced, key=lambda u: u.call_sign)
        return nearest

    def _in_box(
        self,
        role: Role,
        lat: float,
        lon: float,
        radius_km: float,
        ok: Accept,
        mine: list[IndexedUnit],
    ) -> list[IndexedUnit]:
        d_lat = radius_km / KM_PER_DEGREE
        d_lon = radius_km / (KM_PER_DEGREE * max(math.cos(math.radians(lat)), 0.01))
        low_lat, high_lat, low_lon, high_lon = lat - d_lat, lat + d_lat, lon - d_lon, lon + d_lon
        (low_i, low_j), (high_i, high_j) = _cell(low_lat, low_lon), _cell(high_lat, high_lon)
        cells = self._cells[role]
        if (high_i - low_i + 1) * (high_j - low_j + 1) > len(cells):
            # Fewer occupied cells than cells in the box: read those instead.
            buckets = [
                bucket
                for (i, j), bucket in cells.items()
                if low_i <= i <= high_i and low_j <= j <= high_j
            ]
        else:
            buckets = [
                cells[(i, j)]
                for i in range(low_i, high_i + 1)
                for j in range(low_j, high_j + 1)
                if (i, j) in cells
            ]

        # Units in the grid are located; only the overlay may hold unplaced ones.
        found = [
            u
            for bucket in buckets
            for u in bucket.values()
            if low_lat <= u.lat <= high_lat and low_lon <= u.lon <= high_lon and ok(u)  # type: ignore[operator]
        ]
        return found + [
            u
            for u in mine
            if u.lat is not None
            and u.lon is not None
            and low_lat <= u.lat <= high_lat
            and low_lon <= u.lon <= high_lon
        ]
