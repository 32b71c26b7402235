"""Ranking units for a role: required fit (role, within the policy's maximum ETA), then the
ETA band, then well-being, then tie-breakers (capabilities, a tablet where telehealth is
planned, language)."""

from schemas.vocabulary import Role
from services.dispatch.domain.eta import StraightLineEta, haversine_m
from services.dispatch.domain.recommend import (
    Ranked,
    Requirement,
    UnitCandidate,
    far_note,
    needs_telehealth,
    rank_for_role,
)

SCENE = (39.7392, -104.9903)
ETA = StraightLineEta()


def _unit(
    call_sign: str,
    roles: set[Role],
    lat: float | None,
    lon: float | None,
    capabilities: frozenset[str] = frozenset(),
    exposures: int = 0,
    languages: frozenset[str] = frozenset(),
) -> UnitCandidate:
    return UnitCandidate(
        call_sign.lower(),
        call_sign,
        frozenset(roles),
        lat,
        lon,
        capabilities=capabilities,
        exposures=exposures,
        languages=languages,
    )


def _signs(ranked: list[Ranked]) -> list[str]:
    return [r.candidate.call_sign for r in ranked]


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
    ranked = rank_for_role(Role.CLINICIAN, units, *SCENE, ETA)
    assert _signs(ranked) == ["NEAR", "TEAM", "FAR", "NOWHERE"]
    assert ranked[-1].eta_seconds is None
    etas = [r.eta_seconds for r in ranked[:3] if r.eta_seconds is not None]
    assert etas == sorted(etas)
    assert len(etas) == 3


def test_within_the_same_eta_band_naloxone_wins_for_an_overdose() -> None:
    need = Requirement.for_incident({"flags": ["overdose", "naloxone"], "category": "overdose"})
    units = [
        _unit("CLOSEST", {Role.EMT}, 39.7395, -104.9903),
        _unit("NARCAN", {Role.EMT}, 39.7400, -104.9903, frozenset({"naloxone"})),
    ]
    ranked = rank_for_role(Role.EMT, units, *SCENE, ETA, need)
    assert _signs(ranked) == ["NARCAN", "CLOSEST"]
    assert "has naloxone" in ranked[0].reasons


def test_a_much_nearer_unit_still_beats_a_better_equipped_one() -> None:
    need = Requirement(capabilities=frozenset({"naloxone"}))
    units = [
        _unit("NEAR", {Role.EMT}, 39.7395, -104.9903),
        _unit("FAR_NARCAN", {Role.EMT}, 39.80, -104.9903, frozenset({"naloxone"})),
    ]
    assert _signs(rank_for_role(Role.EMT, units, *SCENE, ETA, need)) == ["NEAR", "FAR_NARCAN"]


def test_language_and_cit_count_for_a_behavioural_call() -> None:
    need = Requirement.for_incident({"flags": [], "category": "mental_health"}, language="es")
    units = [
        _unit("PLAIN", {Role.POLICE}, 39.7393, -104.9903),
        _unit(
            "CIT_ES",
            {Role.POLICE},
            39.7396,
            -104.9903,
            frozenset({"cit_trained"}),
            0,
            frozenset({"es"}),
        ),
    ]
    ranked = rank_for_role(Role.POLICE, units, *SCENE, ETA, need)
    assert _signs(ranked) == ["CIT_ES", "PLAIN"]
    assert "speaks es" in ranked[0].reasons


def test_exposure_is_spread_between_equally_near_equally_fit_units() -> None:
    units = [
        _unit("TIRED", {Role.CLINICIAN}, 39.7393, -104.9903, exposures=4),
        _unit("FRESH", {Role.CLINICIAN}, 39.7396, -104.9903, exposures=0),
    ]
    assert _signs(rank_for_role(Role.CLINICIAN, units, *SCENE, ETA)) == ["FRESH", "TIRED"]


def test_telehealth_has_no_travel_time() -> None:
    ranked = rank_for_role(
        Role.TELEHEALTH, [_unit("TH", {Role.TELEHEALTH}, None, None)], *SCENE, ETA
    )
    assert ranked[0].eta_seconds == 0


def test_telehealth_replaces_a_clinician_who_cannot_arrive_in_time() -> None:
    far = rank_for_role(
        Role.CLINICIAN, [_unit("FAR", {Role.CLINICIAN}, 40.2, -104.99)], *SCENE, ETA
    )
    why = needs_telehealth(far[0], 20 * 60)
    assert why is not None
    assert "FAR" in why
    assert "policy maximum 20 min" in why
    near = rank_for_role(
        Role.CLINICIAN, [_unit("NEAR", {Role.CLINICIAN}, 39.74, -104.99)], *SCENE, ETA
    )
    assert needs_telehealth(near[0], 20 * 60) is None
    assert needs_telehealth(None, 20 * 60) == "no clinician is available"


def test_slower_kind_of_unit_has_a_longer_eta() -> None:
    assert ETA.eta_seconds(Role.CLINICIAN, 39.75, -104.99, *SCENE) > ETA.eta_seconds(
        Role.POLICE, 39.75, -104.99, *SCENE
    )


def test_a_tablet_breaks_a_tie_but_never_outranks_distance() -> None:
    need = Requirement.for_incident({"flags": [], "category": "mental_health"}, telehealth=True)
    same_band = [
        _unit("NEAR", {Role.EMT}, 39.7395, -104.9903),
        _unit("TABLET", {Role.EMT}, 39.7400, -104.9903, frozenset({"telehealth_tablet"})),
    ]
    ranked = rank_for_role(Role.EMT, same_band, *SCENE, ETA, need)
    assert _signs(ranked) == ["TABLET", "NEAR"]
    assert "carries the telehealth tablet" in ranked[0].reasons
    # Without telehealth planned the tablet counts for nothing.
    assert _signs(rank_for_role(Role.EMT, same_band, *SCENE, ETA)) == ["NEAR", "TABLET"]
    far_tablet = [
        _unit("NEAR", {Role.EMT}, 39.7395, -104.9903),
        _unit("TABLET", {Role.EMT}, 39.80, -104.9903, frozenset({"telehealth_tablet"})),
    ]
    assert _signs(rank_for_role(Role.EMT, far_tablet, *SCENE, ETA, need)) == ["NEAR", "TABLET"]


# The measurement: a rural P1 overdose in Park County (Fairplay) was offered
# E18, in Denver with a tablet, at 185 minutes while PCA-1 was free 3 minutes away.
FAIRPLAY = (39.2247, -105.9989)


def test_a_rural_call_gets_the_near_unit_not_the_far_one_with_a_tablet() -> None:
    need = Requirement.for_incident(
        {"flags": ["overdose"], "category": "overdose", "roles": ["emt"]}, telehealth=True
    )
    units = [
        _unit("E18", {Role.EMT}, *SCENE, frozenset({"telehealth_tablet", "naloxone"})),
        _unit("PCA-1", {Role.EMT}, FAIRPLAY[0] + 0.01, FAIRPLAY[1]),
    ]
    ranked = rank_for_role(Role.EMT, units, *FAIRPLAY, ETA, need, max_eta_seconds=45 * 60)
    assert _signs(ranked) == ["PCA-1", "E18"]
    assert ranked[0].eta_seconds is not None
    assert ranked[0].eta_seconds < 5 * 60
    assert not ranked[0].far
    assert ranked[1].far
    assert any(r.startswith("far: ") and "policy maximum of 45 min" in r for r in ranked[1].reasons)
    assert far_note(ranked) is None  # a near unit exists: nothing to explain


def test_a_denver_call_is_never_offered_a_park_county_unit_automatically() -> None:
    units = [_unit("PCA-1", {Role.CLINICIAN}, *FAIRPLAY)]
    ranked = rank_for_role(Role.CLINICIAN, units, *SCENE, ETA, max_eta_seconds=45 * 60)
    assert [r.far for r in ranked] == [True]
    note = far_note(ranked)
    assert note is not None
    assert "PCA-1" in note
    assert "not offered automatically" in note
    # Far is past the limit for telehealth too: a far clinician is replaced.
    why = needs_telehealth(ranked[0], 20 * 60)
    assert why is not None
    assert "PCA-1" in why


def test_a_far_unit_ranks_after_a_unit_with_no_known_location() -> None:
    units = [
        _unit("FAR", {Role.POLICE}, *FAIRPLAY),
        _unit("NOWHERE", {Role.POLICE}, None, None),
        _unit("NEAR", {Role.POLICE}, 39.75, -104.99),
    ]
    ranked = rank_for_role(Role.POLICE, units, *SCENE, ETA, max_eta_seconds=30 * 60)
    assert _signs(ranked) == ["NEAR", "NOWHERE", "FAR"]
    assert [r.far for r in ranked] == [False, False, True]


def test_well_being_comes_before_the_tie_breakers() -> None:
    need = Requirement.for_incident({"flags": [], "category": "mental_health"}, language="es")
    units = [
        _unit("TIRED_CIT", {Role.POLICE}, 39.7393, -104.9903, frozenset({"cit_trained"}), 5),
        _unit("FRESH", {Role.POLICE}, 39.7396, -104.9903),
    ]
    assert _signs(rank_for_role(Role.POLICE, units, *SCENE, ETA, need)) == ["FRESH", "TIRED_CIT"]


def test_a_co_responder_car_never_brings_an_officer_to_a_call_without_police() -> None:
    units = [
        _unit(
            "CR-11", {Role.POLICE, Role.CLINICIAN}, 39.7393, -104.9903, frozenset({"cit_trained"})
        ),
        _unit("STAR-FAR", {Role.CLINICIAN}, 39.78, -104.9903),
    ]
    no_police = Requirement.for_incident({"roles": ["clinician"], "category": "mental_health"})
    ranked = rank_for_role(Role.CLINICIAN, units, *SCENE, ETA, no_police)
    assert _signs(ranked) == ["STAR-FAR", "CR-11"]
    assert "would bring an officer the call does not need" in ranked[1].reasons
    assert "has cit trained" not in ranked[1].reasons  # CIT is an officer's training
    with_police = Requirement.for_incident(
        {"roles": ["police", "clinician"], "category": "mental_health"}
    )
    assert _signs(rank_for_role(Role.CLINICIAN, units, *SCENE, ETA, with_police))[0] == "CR-11"
