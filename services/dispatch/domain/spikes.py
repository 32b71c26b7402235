"""Overdose spike rules: sliding 24 h counts per area, thresholds, one alert per area and window.

Pure: given the suspected overdoses (time, jurisdiction, point if known), the
policy's ``spikes`` settings, the spikes still open and the time now, say which
spikes clear and which are raised. The app layer stores and announces them.

- Areas: each jurisdiction, and each ~1 km grid cell holding an overdose with a
  known point (rows of 1/111.32° latitude; columns as wide in kilometres at the
  cell row's middle latitude).
- Window: the 24 h up to now.
- Threshold: fixed by policy (``overdose_24h`` for a jurisdiction,
  ``cell_overdose_24h`` for a cell), or derived from the area's own history:
  the mean + 2 SD (population) of its daily counts over the 7, 30 and 90 whole
  days before the window, the highest of the three, so a quiet week after a busy
  quarter does not alert on an ordinary day; a derived threshold also needs at
  least ``minimum`` overdoses. The count must *exceed* the threshold.
- One alert per area and window: a spike stays open for 24 h after it was
  raised — until every overdose that made it has left the sliding window — and
  no other spike is raised for that area meanwhile. When it clears, a new spike
  may be raised if the count is still above the threshold (a new window).
"""

import math
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from schemas.policy import Spikes

WINDOW = timedelta(hours=24)
HISTORY_DAYS = (7, 30, 90)
KM_PER_DEGREE = 111.32
CELL_KM = 1.0
CELL_DEG = CELL_KM / KM_PER_DEGREE


@dataclass(frozen=True)
class Overdose:
    """A suspected or confirmed overdose: when it was called in, and where if known."""

    incident_id: str
    at: datetime
    jurisdiction: str
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True)
class Area:
    key: str  # "jurisdiction:<name>" or "cell:<jurisdiction>:<row>:<col>"
    jurisdiction: str
    description: str
    # {"polygon": [[lat, lon], ...]} (closed ring), {"circle": [lat, lon, km]} or {}.
    geometry: dict[str, list[float] | list[list[float]]] = field(default_factory=dict)


@dataclass(frozen=True)
class OpenSpike:
    id: str
    area_key: str
    clears_at: datetime


@dataclass(frozen=True)
class Threshold:
    value: float
    basis: str  # "fixed" or "history"


@dataclass(frozen=True)
class SpikeFound:
    area: Area
    count: int
    threshold: Threshold
    window_start: datetime
    clears_at: datetime
    # The newest overdose in the window: the incident the alert is filed on.
    latest_incident_id: str


@dataclass(frozen=True)
class SpikeDecision:
    cleared: list[str]  # ids of open spikes whose window has passed
    raised: list[SpikeFound]


def cell_of(lat: float, lon: float) -> tuple[int, int]:
    row = math.floor(lat / CELL_DEG)
    return row, math.floor(lon / _lon_step(row))


def _lon_step(row: int) -> float:
    middle = (row + 0.5) * CELL_DEG
    return CELL_DEG / max(math.cos(math.radians(middle)), 0.01)


def cell_polygon(row: int, col: int) -> list[list[float]]:
    """The cell's corners, counter-clockwise, the first repeated last (as CAP wants)."""
    step = _lon_step(row)
    south, north = row * CELL_DEG, (row + 1) * CELL_DEG
    west, east = col * step, (col + 1) * step
    ring = [(south, west), (south, east), (north, east), (north, west), (south, west)]
    return [[round(lat, 5), round(lon, 5)] for lat, lon in ring]


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def _circle(points: Sequence[tuple[float, float]]) -> dict[str, list[float] | list[list[float]]]:
    """A circle over the points, centre rounded to ~1 km and radius to whole km: no address."""
    if not points:
        return {}
    centre = (
        round(sum(p[0] for p in points) / len(points), 2),
        round(sum(p[1] for p in points) / len(points), 2),
    )
    radius = max(1.0, float(math.ceil(max(_km(centre, p) for p in points) + 0.5)))
    return {"circle": [centre[0], centre[1], radius]}


def areas_of(overdose: Overdose) -> list[str]:
    keys = [f"jurisdiction:{overdose.jurisdiction}"]
    if overdose.lat is not None and overdose.lon is not None:
        row, col = cell_of(overdose.lat, overdose.lon)
        keys.append(f"cell:{overdose.jurisdiction}:{row}:{col}")
    return keys


def _area(key: str, window: Sequence[Overdose]) -> Area:
    kind, jurisdiction, *rest = key.split(":")
    if kind == "cell":
        row, col = int(rest[0]), int(rest[1])
        return Area(
            key,
            jurisdiction,
            f"{jurisdiction}: 1 km grid cell {row}:{col}",
            {"polygon": cell_polygon(row, col)},
        )
    located = [(o.lat, o.lon) for o in window if o.lat is not None and o.lon is not None]
    return Area(key, jurisdiction, f"jurisdiction {jurisdiction}", _circle(located))


def daily_counts(times: Iterable[datetime], window_start: datetime, days: int) -> list[int]:
    """Overdoses in each of the ``days`` whole days before the window (newest first)."""
    counts = [0] * days
    for at in times:
        back = window_start - at
        if timedelta(0) < back <= timedelta(days=days):
            counts[min(math.ceil(back / timedelta(days=1)) - 1, days - 1)] += 1
    return counts


def derived_threshold(times: Sequence[datetime], window_start: datetime) -> float:
    """The highest of mean + 2 SD of the daily counts over 7, 30 and 90 days."""
    found = []
    for days in HISTORY_DAYS:
        counts = daily_counts(times, window_start, days)
        found.append(statistics.fmean(counts) + 2 * statistics.pstdev(counts))
    return round(max(found), 3)


def threshold_for(
    key: str, rules: Spikes, history: Sequence[datetime], start: datetime
) -> Threshold:
    fixed = rules.cell_overdose_24h if key.startswith("cell:") else rules.overdose_24h
    if fixed is not None:
        return Threshold(float(fixed), "fixed")
    return Threshold(derived_threshold(history, start), "history")


def detect(
    overdoses: Iterable[Overdose],
    rules_for: Callable[[str], Spikes],
    open_spikes: Iterable[OpenSpike],
    now: datetime,
) -> SpikeDecision:
    """Which open spikes clear now, and which areas spike now.

    ``overdoses`` holds at least the last 24 h, and the 90 days before for
    derived thresholds.
    """
    still_open: dict[str, OpenSpike] = {}
    cleared = []
    for spike in open_spikes:
        if spike.clears_at <= now:
            cleared.append(spike.id)
        else:
            still_open[spike.area_key] = spike
    start = now - WINDOW
    in_window: dict[str, list[Overdose]] = defaultdict(list)
    history: dict[str, list[datetime]] = defaultdict(list)
    for overdose in overdoses:
        for key in areas_of(overdose):
            if start < overdose.at <= now:
                in_window[key].append(overdose)
            elif overdose.at <= start:
                history[key].append(overdose.at)
    raised = []
    for key, window in sorted(in_window.items()):
        rules = rules_for(window[0].jurisdiction)
        if not rules.enabled or key in still_open:
            continue
        threshold = threshold_for(key, rules, history[key], start)
        floor = rules.minimum if threshold.basis == "history" else 0
        if len(window) > threshold.value and len(window) >= floor:
            latest = max(window, key=lambda o: (o.at, o.incident_id))
            raised.append(
                SpikeFound(
                    _area(key, window),
                    len(window),
                    threshold,
                    start,
                    now + WINDOW,
                    latest.incident_id,
                )
            )
    return SpikeDecision(cleared, raised)
