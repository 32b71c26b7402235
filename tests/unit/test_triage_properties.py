"""Safety properties of triage, checked by hypothesis over generated calls (issue 4's list).

Calls are built from fragments call-takers really type, joined in any order, with
any mix of protocol answers; the properties must hold for every one of them.
"""

from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from schemas.calls import Answers, CallIntake
from schemas.vocabulary import Flag, Role
from services.common.policy_files import DEFAULT_POLICY_DIR, load_policy_dir
from services.triage.domain.decide import decide

POLICIES = load_policy_dir(DEFAULT_POLICY_DIR)

NEUTRAL = [
    "caller is the neighbour",
    "outside the library on 5th",
    "been going on an hour",
    "caller is worried",
    "he lives alone",
    "in the parking lot",
]
BEHAVIOURAL = [
    "hearing voices",
    "very paranoid and scared",
    "crying and desperate",
    "drunk and stumbling around",
    "dope sick, wants detox",
    "talking to himself",
    "having a panic attack",
    "off his meds",
    "yelling at nobody",
    "says she wants to die",
]
SAFE = [
    "no weapons",
    "not violent",
    "hasn't hurt anyone",
    "denies taking anything",
    "no one is hurt",
]
WEAPON = ["he has a knife", "waving a gun around", "armed with a machete", "tiene un cuchillo"]
VIOLENCE = [
    "punching people",
    "threatening to hit his wife",
    "fighting in the street",
    "attacked the clerk",
]
MEDICAL = [
    "not breathing",
    "won't wake up",
    "having a seizure",
    "bleeding a lot",
    "unconscious on the floor",
    "no respira",
]
OPIOID_OD = [
    "nodding out after using fentanyl",
    "od'ing on heroin, lips turning blue",
    "overdose on blues, unresponsive",
]
CHILDREN = ["kids are in the apartment", "a toddler is with her", "hay niños en la casa"]

answer = st.sampled_from([True, False, None])
answers = st.fixed_dictionaries(
    {},
    optional={name: answer for name in Answers.model_fields},
)


def fragments(*pools: list[str]) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from([f for pool in pools for f in pool]), min_size=1, max_size=5)


def call(
    parts: list[str], given_answers: dict[str, Any], jurisdiction: str = "default"
) -> CallIntake:
    return CallIntake(narrative=", ".join(parts), answers=given_answers, jurisdiction=jurisdiction)


def roles(c: CallIntake) -> set[Role]:
    return set(decide(c, POLICIES.get(c.jurisdiction)).roles)


ANY_PARTS = fragments(NEUTRAL, BEHAVIOURAL, SAFE, WEAPON, VIOLENCE, MEDICAL, OPIOID_OD, CHILDREN)


@settings(max_examples=300, deadline=None)
@given(ANY_PARTS, answers, st.sampled_from(WEAPON + VIOLENCE), st.integers(0, 5))
def test_evidence_of_weapon_or_violence_brings_police(
    parts: list[str], given_answers: dict[str, Any], danger: str, at: int
) -> None:
    before = call(parts, given_answers)
    after = call([*parts[:at], danger, *parts[at:]], given_answers)
    assert Role.POLICE in roles(after), after.narrative
    if Role.POLICE in roles(before):
        assert Role.POLICE in roles(after)


@settings(max_examples=300, deadline=None)
@given(ANY_PARTS, answers, st.sampled_from(["weapons", "violence", "threat_to_others"]))
def test_a_yes_to_weapons_or_violence_brings_police(
    parts: list[str], given_answers: dict[str, Any], question: str
) -> None:
    assert Role.POLICE in roles(call(parts, {**given_answers, question: True}))


@settings(max_examples=300, deadline=None)
@given(ANY_PARTS, answers, st.sampled_from(MEDICAL + OPIOID_OD), st.integers(0, 5))
def test_evidence_of_a_medical_emergency_brings_an_emt(
    parts: list[str], given_answers: dict[str, Any], emergency: str, at: int
) -> None:
    after = call([*parts[:at], emergency, *parts[at:]], given_answers)
    assert Role.EMT in roles(after), after.narrative


@settings(max_examples=300, deadline=None)
@given(fragments(NEUTRAL, BEHAVIOURAL, SAFE), st.booleans())
def test_behavioural_call_without_danger_never_sends_police(
    parts: list[str], answered: bool
) -> None:
    safe_answers: dict[str, Any] = (
        {
            "weapons": False,
            "violence": False,
            "threat_to_others": False,
            "crime_in_progress": False,
            "breathing": True,
            "conscious": True,
            "injury": False,
        }
        if answered
        else {}
    )
    # A call of neutral words only, with no answers, is not understood: it gets
    # the provisional response (DOMAIN principle 4), checked below.
    assume(answered or any(p in BEHAVIOURAL or p in SAFE for p in parts))
    decided = roles(call(parts, safe_answers))
    assert Role.POLICE not in decided
    assert Role.CLINICIAN in decided


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(NEUTRAL), min_size=1, max_size=3))
def test_a_call_not_understood_is_never_a_lone_clinician_at_p3(parts: list[str]) -> None:
    decision = decide(call(parts, {}), POLICIES.get("default"))
    assert set(decision.roles) != {Role.CLINICIAN} or decision.priority < 3
    assert Role.POLICE in decision.roles
    assert decision.needs_answers
    assert decision.key_questions


@settings(max_examples=200, deadline=None)
@given(ANY_PARTS, answers, st.sampled_from(OPIOID_OD), st.sampled_from(["default", "rural"]))
def test_suspected_opioid_overdose_means_naloxone_and_an_emt(
    parts: list[str], given_answers: dict[str, Any], overdose: str, jurisdiction: str
) -> None:
    c = call([overdose, *parts], given_answers, jurisdiction)
    decision = decide(c, POLICIES.get(jurisdiction))
    assert Flag.NALOXONE in decision.flags
    assert Role.EMT in decision.roles


@settings(max_examples=200, deadline=None)
@given(ANY_PARTS, answers, st.sampled_from(CHILDREN), st.integers(0, 5))
def test_children_anywhere_are_flagged(
    parts: list[str], given_answers: dict[str, Any], children: str, at: int
) -> None:
    c = call([*parts[:at], children, *parts[at:]], given_answers)
    assert Flag.CHILDREN_PRESENT in decide(c, POLICIES.get("default")).flags
    assert (
        Flag.CHILDREN_PRESENT
        in decide(
            call(parts, {**given_answers, "children_present": True}), POLICIES.get("default")
        ).flags
    )


@settings(max_examples=200, deadline=None)
@given(ANY_PARTS, answers, st.sampled_from(["default", "rural"]))
def test_the_decision_is_a_pure_function_of_call_and_policy(
    parts: list[str], given_answers: dict[str, Any], jurisdiction: str
) -> None:
    c = call(parts, given_answers, jurisdiction)
    first = decide(c, POLICIES.get(jurisdiction))
    again = decide(c.model_copy(deep=True), POLICIES.get(jurisdiction))
    assert first == again
