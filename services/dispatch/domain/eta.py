"""Estimated time of arrival: straight-line distance times a road factor over a speed per unit kind.

An :class:`EtaEstimator` is the seam a real router (OSRM, Valhalla, a CAD's
own) replaces; everything else asks it, never computes distances itself.
"""

import math
from dataclasses import dataclass, field
from typing import Protocol

from schemas.vocabulary import Role

EARTH_RADIUS_M = 6_371_000.0


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


class EtaEstimator(Protocol):
    def eta_seconds(
        self, role: Role, from_lat: float, from_lon: float, to_lat: float, to_lon: float
    ) -> int: ...


@dataclass(frozen=True)
class StraightLineEta:
    """Urban defaults: roads add ~40% to the crow-fly distance; lights-and-siren units go faster."""

    road_factor: float = 1.4
    speeds_m_s: dict[Role, float] = field(
        default_factory=lambda: {
            Role.POLICE: 13.0,  # ~47 km/h average in town
            Role.EMT: 13.0,
            Role.CLINICIAN: 10.0,  # civilian van, no lights
            Role.TELEHEALTH: 10.0,
        }
    )

    def eta_seconds(
        self, role: Role, from_lat: float, from_lon: float, to_lat: float, to_lon: float
    ) -> int:
        distance = haversine_m(from_lat, from_lon, to_lat, to_lon) * self.road_factor
        return round(distance / self.speeds_m_s[role])
