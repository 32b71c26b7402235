"""Service areas: which agency serves where, and whether an incident is inside a unit's area.

An agency serves a jurisdiction (the same names as the policy files: ``default``,
``rural``), optionally narrowed to a GeoJSON ``Polygon`` or ``MultiPolygon``. A unit
is *home* for an incident when the incident is in its jurisdiction and, where the
unit's area has a polygon and the incident a point, the point is inside it. A unit
with no area at all is home everywhere (a roster without areas ranks as before).
Units that are not home are only mutual aid: offered when no home unit can arrive
within the policy's maximum ETA.

Point-in-polygon is ray casting over the rings (GeoJSON order: longitude,
latitude; holes subtract), written here rather than pulled in from shapely: a
county line is a few hundred vertices, and one test per area per recommendation
is all ranking needs.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

Ring = tuple[tuple[float, float], ...]  # (lon, lat) positions, closed
Polygon = tuple[Ring, ...]  # outer ring, then holes


class InvalidArea(ValueError):
    """A service area that is not a usable GeoJSON Polygon or MultiPolygon; says where."""


def _ring_contains(ring: Ring, lon: float, lat: float) -> bool:
    """Ray casting: a ray from the point towards +longitude crosses the ring an odd
    number of times iff the point is inside (points exactly on an edge may go either way)."""
    inside = False
    count = len(ring)
    j = count - 1
    for i in range(count):
        xi, yi = ring[i]
        xj, yj = ring[j]
        if (yi > lat) != (yj > lat):
            crossing = xi + (lat - yi) * (xj - xi) / (yj - yi)
            if lon < crossing:
                inside = not inside
        j = i
    return inside


def polygon_contains(polygon: Polygon, lon: float, lat: float) -> bool:
    """Inside the outer ring and in none of the holes."""
    outer, *holes = polygon
    return _ring_contains(outer, lon, lat) and not any(
        _ring_contains(hole, lon, lat) for hole in holes
    )


def point_in_geometry(polygons: Sequence[Polygon], lat: float, lon: float) -> bool:
    """Whether (lat, lon) lies inside any of ``polygons`` (a MultiPolygon's parts)."""
    return any(polygon_contains(p, lon, lat) for p in polygons)


def parse_geometry(geometry: Any) -> tuple[Polygon, ...]:
    """The polygons of a GeoJSON ``Polygon`` / ``MultiPolygon`` geometry (or a ``Feature``
    holding one), checked: closed rings of at least four positions, numbers in range.
    Raises :class:`InvalidArea` saying what is wrong and where."""
    if isinstance(geometry, dict) and geometry.get("type") == "Feature":
        geometry = geometry.get("geometry")
    if not isinstance(geometry, dict):
        raise InvalidArea("expected a GeoJSON Polygon or MultiPolygon object")
    kind, coordinates = geometry.get("type"), geometry.get("coordinates")
    if kind == "Polygon":
        return (_polygon(coordinates, "coordinates"),)
    if kind == "MultiPolygon":
        if not isinstance(coordinates, list) or not coordinates:
            raise InvalidArea("coordinates: a MultiPolygon needs at least one polygon")
        return tuple(_polygon(p, f"coordinates[{i}]") for i, p in enumerate(coordinates))
    raise InvalidArea(f"type: expected Polygon or MultiPolygon, got {kind!r}")


def _polygon(rings: Any, where: str) -> Polygon:
    if not isinstance(rings, list) or not rings:
        raise InvalidArea(f"{where}: a polygon needs at least its outer ring")
    return tuple(_ring(ring, f"{where}[{i}]") for i, ring in enumerate(rings))


def _ring(positions: Any, where: str) -> Ring:
    if not isinstance(positions, list) or len(positions) < 4:
        raise InvalidArea(f"{where}: a ring needs at least four positions (first = last)")
    ring: list[tuple[float, float]] = []
    for i, position in enumerate(positions):
        if (
            not isinstance(position, list | tuple)
            or len(position) < 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in position)
        ):
            raise InvalidArea(f"{where}[{i}]: expected [longitude, latitude]")
        lon, lat = float(position[0]), float(position[1])
        if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
            raise InvalidArea(f"{where}[{i}]: [{lon}, {lat}] is not a longitude, latitude")
        ring.append((lon, lat))
    if ring[0] != ring[-1]:
        raise InvalidArea(f"{where}: the ring is not closed (first position must equal last)")
    return tuple(ring)


@dataclass(frozen=True, eq=False)
class ServiceArea:
    """Where an agency's units are home. Compared by identity: areas are shared by
    the units of one agency, and an answer per area is cached per recommendation."""

    jurisdiction: str | None = None
    polygons: tuple[Polygon, ...] = ()
    # Bounding box (min lon, min lat, max lon, max lat): most points fail it cheaply.
    bbox: tuple[float, float, float, float] | None = field(default=None, repr=False)

    @classmethod
    def of(cls, jurisdiction: str | None, geometry: Any = None) -> "ServiceArea | None":
        """The area from stored fields; None when the unit has neither (home everywhere)."""
        if jurisdiction is None and geometry is None:
            return None
        polygons = parse_geometry(geometry) if geometry is not None else ()
        points = [p for poly in polygons for p in poly[0]]
        bbox = (
            (
                min(p[0] for p in points),
                min(p[1] for p in points),
                max(p[0] for p in points),
                max(p[1] for p in points),
            )
            if points
            else None
        )
        return cls(jurisdiction, polygons, bbox)

    def serves(self, jurisdiction: str | None, lat: float | None, lon: float | None) -> bool:
        """Whether an incident in ``jurisdiction`` at (lat, lon) is inside this area. The
        polygon is only asked when the incident has a point (an unplaced incident is
        judged by its jurisdiction alone)."""
        if (
            self.jurisdiction is not None
            and jurisdiction is not None
            and self.jurisdiction != jurisdiction
        ):
            return False
        if not self.polygons or lat is None or lon is None:
            return True
        if self.bbox is not None:
            min_lon, min_lat, max_lon, max_lat = self.bbox
            if not (min_lon <= lon <= max_lon and min_lat <= lat <= max_lat):
                return False
        return point_in_geometry(self.polygons, lat, lon)

    def describe(self) -> str:
        if self.jurisdiction and self.polygons:
            return f"{self.jurisdiction} (its mapped area)"
        return self.jurisdiction or "its mapped area"
