"""Triage follows DOMAIN.md's routing principles: one behaviour per test, in call-takers' words."""

from typing import Any

import pytest

from schemas.calls import CallIntake
from services.common.policy_files import DEFAULT_POLICY_DIR, load_policy_dir
from services.triage.domain.decide import decide

POLICIES = load_policy_dir(DEFAULT_POLICY_DIR)


def _decide(narrative: str, jurisdiction: str = "default", **answers: Any) -> Any:
    call = CallIntake(narrative=narrative, answers=answers, jurisdiction=jurisdiction)
    return decide(call, POLICIES.get(jurisdiction))


def test_behavioural_crisis_without_danger_sends_a_clinician_and_no_police() -> None:
    d = _decide(
        "hearing voices, pacing, no weapons, hasn't hurt anyone", weapons=False, violence=False
    )
    assert d.roles == ["clinician"]
    assert d.response_model == "clinician"


def test_weapon_brings_police_and_a_clinician_for_the_crisis() -> None:
    d = _decide("man in psychosis waving a knife in the street")
    assert set(d.roles) == {"police", "clinician"}
    assert d.response_model == "co_responder"
    assert d.priority == 1
    assert "weapons" in d.flags


def test_negated_weapon_is_not_a_weapon() -> None:
    assert "police" not in _decide("she is crying and desperate, no weapons").roles


def test_opioid_overdose_sets_naloxone_and_sends_emt_and_clinician() -> None:
    d = _decide("friend nodding out, won't wake up, did blues", overdose_suspected=None)
    assert {"emt", "clinician"} <= set(d.roles)
    assert "naloxone" in d.flags
    assert d.category == "overdose"
    assert d.priority == 1


def test_not_breathing_is_a_medical_emergency_not_a_negation() -> None:
    d = _decide("my dad is not breathing")
    assert "emt" in d.roles
    assert d.priority == 1


def test_conflict_takes_the_safer_reading_and_says_so() -> None:
    d = _decide("he has a gun in his hand", weapons=False)
    assert "police" in d.roles
    assert any(r.rule == "conflict.safer_reading" for r in d.rationale)


def test_rural_sends_telehealth_with_someone_on_scene() -> None:
    d = _decide("hearing voices and scared", jurisdiction="rural")
    assert "clinician" not in d.roles
    assert "telehealth" in d.roles
    assert set(d.roles) & {"police", "emt"}
    assert d.policy_version.startswith("rural")


@pytest.mark.parametrize("narrative", ["kids are in the house", "hay niños en la casa"])
def test_children_present_is_flagged(narrative: str) -> None:
    assert "children_present" in _decide(narrative).flags


def test_every_decision_says_why() -> None:
    d = _decide("welfare check on a neighbour")
    assert d.rationale
    assert d.policy_version == POLICIES.get("default").version


def test_shooting_up_is_drug_use_not_a_shooting() -> None:
    d = _decide("guy shooting up in the bathroom, now slumped, not responding")
    assert "police" not in d.roles
    assert {"emt", "clinician"} <= set(d.roles)
    assert "naloxone" in d.flags
    assert "police" in _decide("shooting outside the bar, one person down").roles


def test_negation_does_not_reach_past_its_clause() -> None:
    assert "police" in _decide("yelling at nobody, waving a gun around").roles
    assert "police" in _decide("no gun but he has a knife").roles
    assert "police" not in _decide("no gun, no knife, just crying").roles


def test_a_follow_up_after_an_overdose_is_clinician_outreach_at_p3() -> None:
    call = CallIntake(
        narrative="48h post-overdose outreach, revived with narcan sunday", source="follow_up"
    )
    d = decide(call, POLICIES.get("default"))
    assert d.roles == ["clinician"]
    assert d.priority == 3
    danger = CallIntake(
        narrative="follow-up visit, he has a gun and is threatening to kill her", source="follow_up"
    )
    assert "police" in decide(danger, POLICIES.get("default")).roles


def test_a_misspelt_breathing_is_not_a_breathing_emergency() -> None:
    d = _decide("welfair check, guy on a bench, breathng ok, woke up and talked")
    assert "emt" not in d.roles


def test_weapons_unknown_is_neither_yes_nor_no() -> None:
    d = _decide("man pacing and hearing voices, weapons unknown")
    assert "weapons" not in d.flags
    assert d.roles == ["clinician"]


def test_a_suspected_weapon_keeps_police_and_warns() -> None:
    d = _decide("hearing voices, not sure if he has a gun")
    assert {"police", "clinician"} <= set(d.roles)
    assert "weapons" in d.flags
    assert d.priority == 2
    assert any("possible weapon" in r.reason for r in d.rationale)


def test_a_threat_to_others_brings_police_without_claiming_violence() -> None:
    d = _decide("ex outside her door yelling he will kill her, weapons unk")
    assert d.roles == ["police"]
    assert "violence" not in d.flags
    assert d.priority == 2


def test_a_threat_against_oneself_is_suicide_risk_not_a_threat_to_others() -> None:
    d = _decide("says he will kill himself tonight, no weapons")
    assert d.roles == ["clinician"]
    assert "suicide_risk" in d.flags


@pytest.mark.parametrize(
    "narrative",
    [
        "sitting on the edge of the roof, legs over the side",
        "pills lined up on the table, says tonight is the night",
        "cut her wrists, bleeding a lot, says she wants to die",
    ],
)
def test_means_at_hand_or_an_attempt_under_way_is_priority_1(narrative: str) -> None:
    d = _decide(narrative)
    assert "suicide_risk" in d.flags
    assert d.priority == 1


def test_aggression_with_weapons_unknown_is_a_joint_response() -> None:
    d = _decide("geeked up, yelling at the clerk, knocked over a display, weapons unk")
    assert set(d.roles) == {"police", "clinician"}
    assert d.priority == 2


def test_safe_and_asking_for_help_is_non_urgent() -> None:
    d = _decide("drunk on the bench, asking for a detox bed, no weapons, safe")
    assert d.roles == ["clinician"]
    assert d.priority == 3
    assert any(r.rule == "priority.safe_resource_request" for r in d.rationale)


def test_withdrawal_stays_urgent_even_when_treatment_is_asked_for() -> None:
    assert _decide("dope sick, shaking and sweating, wants treatment today").priority == 2
