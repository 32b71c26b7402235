"""Choosing a treatment provider for a warm handoff: offers the service, open now, room, near.

A provider is a candidate when it offers the service asked for, is open at
this moment in its own time zone (an empty schedule means always open), has
not reported zero capacity, and has not already declined or let this handoff
lapse. Candidates with reported capacity come before those that have not
reported any, then the nearest first.
"""

from dataclasses import dataclass
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from services.dispatch.domain.eta import haversine_m

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class ProviderCandidate:
    provider_id: str
    organization: str
    service_type: str
    lat: float | None
    lon: float | None
    timezone: str
    schedule: tuple[dict[str, Any], ...]
    capacity: int | None


def is_open(schedule: tuple[dict[str, Any], ...], timezone: str, at: datetime) -> bool:
    if not schedule:
        return True
    local = at.astimezone(ZoneInfo(timezone))
    day, now = DAYS[local.weekday()], local.time()
    for window in schedule:
        opens, closes = time.fromisoformat(window["opens"]), time.fromisoformat(window["closes"])
        if day not in window["days"]:
            continue
        if opens <= closes and opens <= now < closes:
            return True
        if closes < opens and (now >= opens or now < closes):  # overnight, e.g. 20:00-08:00
            return True
    return False


def choose(
    candidates: list[ProviderCandidate],
    service: str,
    lat: float | None,
    lon: float | None,
    at: datetime,
    tried: set[str],
) -> list[ProviderCandidate]:
    usable = [
        c
        for c in candidates
        if c.service_type == service
        and c.provider_id not in tried
        and c.capacity != 0
        and is_open(c.schedule, c.timezone, at)
    ]

    def distance(c: ProviderCandidate) -> float:
        if c.lat is None or c.lon is None or lat is None or lon is None:
            return float("inf")
        return haversine_m(c.lat, c.lon, lat, lon)

    return sorted(usable, key=lambda c: (c.capacity is None, distance(c), c.organization))
