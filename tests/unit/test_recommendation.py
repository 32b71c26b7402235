"""Ranking units for a role: nearest first by ETA, telehealth needs no travel, unknown last."""

from schemas.vocabulary import Role
from services.dispatch.domain.eta import StraightLineEta, haversine_m
from services.dispatch.domain.recommend import UnitCandidate, rank_for_role

SCENE = (39.7392, -104.9903)


def _unit(call_sign: str, roles: set[Role], lat: float | None, lon: float | None) -> UnitCandidate:
    return UnitCandidate(call_sign.lower(), call_sign, frozenset(roles), lat, lon)


def test_haversine_knows_a_kilometre() -> None:
    assert 1105 < haversine_m(39.7392, -104.9903, 39.7492, -104.9903) < 1120


def test_nearest_capable_unit_first_and_unknown_location_last() -> None:
    units = [
        _unit("FAR", {Role.CLINICIAN}, 39.80, -104.99),
        _unit("NEAR", {Role.CLINICIAN}, 39.74, -104.99),
        _unit("NOWHERE", {Role.CLINICIAN}, None, None),
        _unit("COP", {Role.POLICE}, 39.7392, -104.9903),
        _unit("TEAM", {Role.POLICE, Role.CLINICIAN}, 39.75, -104.99),
    ]
    ranked = rank_for_role(Role.CLINICIAN, units, *SCENE, StraightLineEta())
    assert [u.call_sign for _, u in ranked] == ["NEAR", "TEAM", "FAR", "NOWHERE"]
    assert ranked[-1][0] is None
    etas = [eta for eta, _ in ranked[:3] if eta is not None]
    assert len(etas) == 3
    assert etas == sorted(etas)


def test_telehealth_has_no_travel_time() -> None:
    ranked = rank_for_role(
        Role.TELEHEALTH, [_unit("TH", {Role.TELEHEALTH}, None, None)], *SCENE, StraightLineEta()
    )
    assert ranked[0][0] == 0


def test_slower_kind_of_unit_has_a_longer_eta() -> None:
    eta = StraightLineEta()
    assert eta.eta_seconds(Role.CLINICIAN, 39.75, -104.99, *SCENE) > eta.eta_seconds(
        Role.POLICE, 39.75, -104.99, *SCENE
    )
