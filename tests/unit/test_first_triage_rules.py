"""The first rule set follows DOMAIN.md's routing principles (the full engine is its own issue)."""

from typing import Any

import pytest

from schemas.calls import CallIntake
from services.triage.adapters.policy_files import DEFAULT_POLICY_DIR, load_policy_dir
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
