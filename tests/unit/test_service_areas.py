"""Service areas: ray-casting point-in-polygon, GeoJSON checks, and mutual aid in the ranking.

A unit outside the incident's area ranks after every home unit within the policy's
maximum ETA (so it is offered only when none is), is flagged ``mutual_aid`` and
says so in its reasons; beyond the maximum it is "far" like any other unit.
"""

import pytest

from schemas.vocabulary import Role
from services.dispatch.domain.areas import (
    InvalidArea,
    ServiceArea,
    parse_geometry,
    point_in_geometry,
)
from services.dispatch.domain.eta import StraightLineEta
from services.dispatch.domain.recommend import Requirement, UnitCandidate, rank_for_role

DENVER = (39.7392, -104.9903)
FAIRPLAY = (39.2247, -105.9989)
ETA = StraightLineEta()

# A square around downtown Denver with a square hole in its north-east corner
# (GeoJSON order: longitude, latitude).
SQUARE = {
    "type": "Polygon",
    "coordinates": [
        [[-105.1, 39.6], [-104.8, 39.6], [-104.8, 39.9], [-105.1, 39.9], [-105.1, 39.6]],
        [[-104.9, 39.8], [-104.85, 39.8], [-104.85, 39.85], [-104.9, 39.85], [-104.9, 39.8]],
    ],
}
# A concave "L": the notch at its upper right is outside.
L_SHAPE = {
    "type": "Polygon",
    "coordinates": [[[0, 0], [2, 0], [2, 1], [1, 1], [1, 2], [0, 2], [0, 0]]],
}


def test_a_point_inside_the_outer_ring_and_outside_every_hole_is_inside() -> None:
    polygons = parse_geometry(SQUARE)
    assert point_in_geometry(polygons, *DENVER)
    assert not point_in_geometry(polygons, 39.82, -104.87)  # in the hole
    assert not point_in_geometry(polygons, *FAIRPLAY)


def test_ray_casting_handles_a_concave_polygon() -> None:
    polygons = parse_geometry(L_SHAPE)
    assert point_in_geometry(polygons, 0.5, 0.5)
    assert point_in_geometry(polygons, 1.5, 0.5)  # lat 1.5, lon 0.5: the upright of the L
    assert not point_in_geometry(polygons, 1.5, 1.5)  # the notch
    assert not point_in_geometry(polygons, -0.5, 0.5)


def test_a_multipolygon_contains_a_point_in_any_part() -> None:
    far_square = [[[10, 10], [11, 10], [11, 11], [10, 11], [10, 10]]]
    polygons = parse_geometry(
        {"type": "MultiPolygon", "coordinates": [L_SHAPE["coordinates"], far_square]}
    )
    assert point_in_geometry(polygons, 10.5, 10.5)
    assert point_in_geometry(polygons, 0.5, 0.5)
    assert not point_in_geometry(polygons, 5, 5)


def test_a_feature_is_read_for_its_geometry() -> None:
    assert parse_geometry({"type": "Feature", "geometry": SQUARE, "properties": {}})


@pytest.mark.parametrize(
    ("geometry", "says"),
    [
        ({"type": "Point", "coordinates": [0, 0]}, "type"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 1]]]}, "four positions"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}, "not closed"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, "x"], [1, 1], [0, 0]]]}, "[1]"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 95], [1, 1], [0, 0]]]}, "latitude"),
        ("not an object", "GeoJSON"),
    ],
)
def test_a_bad_area_is_refused_saying_where(geometry: object, says: str) -> None:
    with pytest.raises(InvalidArea, match=says.replace("[", r"\[").replace("]", r"\]")):
        parse_geometry(geometry)


def test_an_area_serves_its_jurisdiction_and_inside_its_polygon() -> None:
    denver = ServiceArea.of("default", SQUARE)
    assert denver is not None
    assert denver.serves("default", *DENVER)
    assert not denver.serves("rural", *DENVER)  # another jurisdiction's call
    assert not denver.serves("default", *FAIRPLAY)  # outside the polygon
    assert denver.serves("default", None, None)  # no point: the jurisdiction decides
    assert ServiceArea.of(None, None) is None  # no area: home everywhere


def _unit(call_sign: str, at: tuple[float, float], area: ServiceArea | None) -> UnitCandidate:
    return UnitCandidate(
        call_sign.lower(),
        call_sign,
        frozenset({Role.POLICE}),
        at[0],
        at[1],
        agency=call_sign.split("-")[0],
        area=area,
    )


DENVER_AREA = ServiceArea.of("default")
PARK_COUNTY = ServiceArea.of("rural")
NEAR_DENVER = (DENVER[0] + 0.01, DENVER[1])
LIMIT = 30 * 60


def test_a_home_unit_within_the_maximum_beats_a_nearer_mutual_aid_unit() -> None:
    park = _unit("PCSO-9", (DENVER[0] + 0.001, DENVER[1]), PARK_COUNTY)  # parked in Denver
    home = _unit("1A21", NEAR_DENVER, DENVER_AREA)
    need = Requirement(jurisdiction="default")
    ranked = rank_for_role(Role.POLICE, [park, home], *DENVER, ETA, need, LIMIT)
    assert [r.candidate.call_sign for r in ranked] == ["1A21", "PCSO-9"]
    assert not ranked[0].mutual_aid
    assert ranked[1].mutual_aid
    assert any(reason.startswith("mutual aid: PCSO serves rural") for reason in ranked[1].reasons)


def test_mutual_aid_comes_before_a_far_home_unit_and_is_far_itself_beyond_the_maximum() -> None:
    park_near = _unit("PCSO-9", (DENVER[0] + 0.02, DENVER[1]), PARK_COUNTY)
    home_far = _unit("1A99", FAIRPLAY, DENVER_AREA)
    park_far = _unit("PCSO-1", FAIRPLAY, PARK_COUNTY)
    need = Requirement(jurisdiction="default")
    ranked = rank_for_role(Role.POLICE, [home_far, park_far, park_near], *DENVER, ETA, need, LIMIT)
    assert [(r.candidate.call_sign, r.far, r.mutual_aid) for r in ranked] == [
        ("PCSO-9", False, True),
        ("1A99", True, False),
        ("PCSO-1", True, True),
    ]


def test_units_without_an_area_are_home_everywhere() -> None:
    plain = _unit("1A21", NEAR_DENVER, None)
    ranked = rank_for_role(
        Role.POLICE, [plain], *DENVER, ETA, Requirement(jurisdiction="rural"), LIMIT
    )
    assert not ranked[0].mutual_aid
