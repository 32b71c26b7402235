"""Issue 15: each triage rule on its own, the lexicon as data, key questions, program switches.

Rules are tested on ``Facts`` directly (what a call established), so each test
names the one rule it is about; the issue's typed examples are tested end to end.
"""

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from schemas.calls import CallIntake
from schemas.policy import LexiconOverride, TriageSettings
from schemas.vocabulary import Flag, Role
from services.common.policy_files import DEFAULT_POLICY_DIR, load_policy_dir
from services.triage.domain.decide import RULES, Facts, apply_rules, decide, lexicon_for
from services.triage.domain.findings import read_narrative
from services.triage.domain.lexicon import LexiconError, default_lexicon, load_lexicon

POLICIES = load_policy_dir(DEFAULT_POLICY_DIR)
DEFAULT = POLICIES.get("default")
RURAL = POLICIES.get("rural")
UNDERSTOOD = Facts(understood=True)


def _decide(narrative: str, jurisdiction: str = "default", **answers: Any) -> Any:
    call = CallIntake(narrative=narrative, answers=answers, jurisdiction=jurisdiction)
    return decide(call, POLICIES.get(jurisdiction))


def _fired(facts: Facts, policy: Any = DEFAULT) -> list[str]:
    return [item.rule for item in apply_rules(facts, policy).why]


# --- the table -----------------------------------------------------------------


def test_rule_ids_are_unique_and_every_rule_says_why() -> None:
    ids = [rule.id for rule in RULES]
    assert len(ids) == len(set(ids))
    for rule in RULES:
        assert rule.reason(Facts(), DEFAULT)


RULE_CASES: list[tuple[Facts, str, set[Role], int, set[Flag]]] = [
    (Facts(weapon=True), "safety.police", {Role.POLICE}, 1, {Flag.WEAPONS}),
    (Facts(threat=True), "safety.police", {Role.POLICE}, 2, set()),
    (Facts(domestic=True, aggression=True), "safety.police", {Role.POLICE}, 1, set()),
    (Facts(wounded=True), "medical.wounded", {Role.POLICE, Role.EMT}, 1, {Flag.MEDICAL}),
    (
        Facts(self_inflicted=True, suicidal=True),
        "medical.wounded",
        {Role.POLICE, Role.EMT, Role.CLINICIAN},
        1,
        {Flag.WEAPONS, Flag.SUICIDE_RISK, Flag.MEDICAL},
    ),
    (
        Facts(overdose=True),
        "medical.overdose",
        {Role.EMT, Role.CLINICIAN},
        1,
        {Flag.NALOXONE, Flag.OVERDOSE},
    ),
    (Facts(unconscious=True), "medical.emergency", {Role.EMT}, 1, {Flag.MEDICAL}),
    (Facts(exposure=True), "medical.exposure", {Role.EMT}, 2, {Flag.MEDICAL}),
    (Facts(exposure=True, altered=True), "medical.exposure", {Role.EMT}, 1, {Flag.MEDICAL}),
    (
        Facts(ledge=True),
        "hazard.heights",
        {Role.CLINICIAN, Role.EMT},
        1,
        {Flag.SUICIDE_RISK},
    ),
    (Facts(traffic=True), "hazard.traffic", {Role.EMT, Role.CLINICIAN}, 1, set()),
    (Facts(suicidal=True), "behavioural.suicide", {Role.CLINICIAN}, 2, {Flag.SUICIDE_RISK}),
    (
        Facts(suicidal=True, means=True),
        "behavioural.suicide",
        {Role.CLINICIAN},
        1,
        {Flag.SUICIDE_RISK},
    ),
    (Facts(mental=True), "behavioural.crisis", {Role.CLINICIAN}, 2, set()),
    (Facts(welfare=True, understood=True), "welfare.check", {Role.CLINICIAN}, 3, set()),
    (Facts(unreached=True, understood=True), "welfare.check", {Role.CLINICIAN}, 2, set()),
    (
        Facts(mental=True, calm=True),
        "priority.safe_resource_request",
        {Role.CLINICIAN},
        3,
        set(),
    ),
    (Facts(), "safety.provisional", {Role.POLICE, Role.CLINICIAN}, 2, set()),
    (Facts(understood=True), "safety.provisional", {Role.CLINICIAN}, 3, set()),
    (
        Facts(mental=True, children=True),
        "family.children_present",
        {Role.CLINICIAN},
        2,
        {Flag.CHILDREN_PRESENT},
    ),
    (
        Facts(overdose=True, follow_up=True),
        "follow_up.outreach",
        {Role.CLINICIAN},
        3,
        set(),
    ),
    (
        Facts(unconscious=True, follow_up=True),
        "follow_up.found_now",
        {Role.CLINICIAN, Role.EMT},
        1,
        {Flag.MEDICAL},
    ),
    (Facts(water=True), "hazard.water", {Role.EMT}, 1, {Flag.MEDICAL}),
    (Facts(resource=True, understood=True), "welfare.resources", {Role.CLINICIAN}, 3, set()),
    (
        Facts(elderly=True, altered=True, understood=True),
        "medical.altered_elder",
        {Role.EMT, Role.CLINICIAN},
        2,
        {Flag.MEDICAL},
    ),
    (Facts(mental=True), "safety.unverified", {Role.CLINICIAN}, 2, set()),
    (
        Facts(missing=True, children=True, understood=True),
        "safety.missing_person",
        {Role.POLICE, Role.CLINICIAN},
        1,
        {Flag.CHILDREN_PRESENT},
    ),
    (
        Facts(officer_on_scene=True, mental=True),
        "safety.officer_on_scene",
        {Role.POLICE, Role.CLINICIAN},
        2,
        set(),
    ),
]


@pytest.mark.parametrize(("facts", "rule", "roles", "priority", "flags"), RULE_CASES)
def test_each_rule_does_what_it_says(
    facts: Facts, rule: str, roles: set[Role], priority: int, flags: set[Flag]
) -> None:
    draft = apply_rules(facts, DEFAULT)
    assert rule in [item.rule for item in draft.why]
    assert draft.roles == roles
    assert draft.priority == priority
    assert flags <= draft.flags


def test_every_rule_of_the_table_has_its_own_case_above() -> None:
    assert {rule.id for rule in RULES} <= {case[1] for case in RULE_CASES}


def test_provisional_response_is_marked_as_needing_answers() -> None:
    draft = apply_rules(Facts(), DEFAULT)
    assert draft.needs_answers
    assert not apply_rules(Facts(safety_established=True), DEFAULT).needs_answers


def test_the_provisional_response_is_the_policys() -> None:
    settings = TriageSettings(provisional_roles=("police", "emt"), provisional_priority=1)
    policy = DEFAULT.model_copy(update={"triage": settings})
    draft = apply_rules(Facts(), policy)
    assert draft.roles == {Role.POLICE, Role.EMT}
    assert draft.priority == 1


def test_roles_only_accumulate_and_the_most_urgent_priority_wins() -> None:
    draft = apply_rules(Facts(weapon=True, mental=True, calm=True), DEFAULT)
    assert draft.roles == {Role.POLICE, Role.CLINICIAN}
    assert draft.priority == 1  # calm never lowers a call with danger in it


def test_no_co_responder_program_sends_police_and_telehealth_as_the_policy_says() -> None:
    facts = replace(UNDERSTOOD, weapon=True, suicidal=True)
    rural = apply_rules(facts, RURAL)
    assert rural.roles == {Role.POLICE, Role.TELEHEALTH}
    assert rural.model == "telehealth"
    assert "policy.telehealth" in _fired(facts, RURAL)
    no_team = DEFAULT.model_copy(
        update={"programs": DEFAULT.programs.model_copy(update={"co_responder": False})}
    )
    separately = apply_rules(facts, no_team)
    assert separately.roles == {Role.POLICE, Role.CLINICIAN}
    assert separately.model == "police"
    by_video = no_team.model_copy(
        update={"triage": TriageSettings(without_co_responder="telehealth")}
    )
    assert apply_rules(facts, by_video).roles == {Role.POLICE, Role.TELEHEALTH}


def test_rural_knife_and_suicidal_talk_is_not_a_co_responder_call() -> None:
    d = _decide("knife and suicidal talk at the farmhouse", "rural")
    assert d.response_model != "co_responder"
    assert set(d.roles) == {"police", "telehealth"}


# --- deflection is earned ------------------------------------------------------------


def test_nothing_understood_is_never_a_lone_clinician_at_p3() -> None:
    d = _decide("please send someone to 414 elm")
    assert set(d.roles) == {"police", "clinician"}
    assert d.priority == 2
    assert d.needs_answers
    assert d.key_questions


def test_answers_establishing_safety_let_police_stand_down() -> None:
    d = _decide(
        "please send someone to 414 elm", weapons=False, violence=False, threat_to_others=False
    )
    assert d.roles == ["clinician"]
    assert not d.needs_answers


def test_a_no_to_weapons_beside_a_knife_keeps_police_and_flags_the_conflict() -> None:
    d = _decide("he has a knife and keeps saying the devil is in him", weapons=False)
    assert "police" in d.roles
    assert any(r.rule == "conflict.safer_reading" for r in d.rationale)


# --- key questions ---------------------------------------------------------------------


def test_key_questions_say_what_an_answer_would_change_most_decisive_first() -> None:
    d = _decide("hearing voices, pacing in the kitchen")
    assert d.key_questions
    first = d.key_questions[0]
    assert first.answer in {"weapons", "violence", "threat_to_others", "conscious", "breathing"}
    assert "police joins" in first.changes or "emt joins" in first.changes
    assert all(q.answer in d.answers_missing for q in d.key_questions)


def test_answered_questions_are_recorded_and_not_asked_again() -> None:
    d = _decide("hearing voices", weapons=False, conscious=True)
    assert {"weapons", "conscious"} <= set(d.answers_given)
    assert "weapons" not in d.answers_missing
    assert all(q.answer not in {"weapons", "conscious"} for q in d.key_questions)


def test_a_question_the_words_already_answer_is_not_asked() -> None:
    d = _decide("man waving a gun outside the store")
    assert all(q.answer != "weapons" for q in d.key_questions)


# --- the issue's examples, by category ---------------------------------------------


@pytest.mark.parametrize(
    ("narrative", "must", "must_not", "priority", "flags"),
    [
        ("he said he wants to kill his boss", {"police"}, set(), 2, set()),
        (
            "the caller's husband shot himself",
            {"police", "emt", "clinician"},
            set(),
            1,
            {"weapons"},
        ),
        ("person standing on the railing of the bridge", {"clinician", "emt"}, set(), 1, set()),
        (
            "elderly man with dementia is wandering in traffic",
            {"clinician", "emt"},
            set(),
            1,
            set(),
        ),
        ("not moving, syringe next to him", {"emt", "clinician"}, {"police"}, 1, {"naloxone"}),
        ("throwing dishes", {"police"}, set(), 2, set()),
        (
            "psychotic mom throwing things, child present",
            {"police", "clinician"},
            set(),
            2,
            {"children_present"},
        ),
        ("drunk in a doorway, 15°F", {"emt", "clinician"}, {"police"}, 2, {"medical"}),
        ("collapsed in the aisle", {"emt"}, {"police"}, 1, {"medical"}),
        ("guy came at him with a rake", {"police"}, set(), 1, {"weapons"}),
        (
            "her toddler is in the apartment with her, she is very drunk",
            {"clinician"},
            set(),
            2,
            {"children_present"},
        ),
        (
            "pt unresponsve in the bathrom, syrnge on the floor",
            {"emt"},
            {"police"},
            1,
            {"naloxone"},
        ),
        ("está en la orilla del puente", {"clinician", "emt"}, set(), 1, set()),
    ],
)
def test_the_issues_examples(
    narrative: str, must: set[str], must_not: set[str], priority: int, flags: set[str]
) -> None:
    d = _decide(narrative)
    assert must <= set(d.roles), (narrative, d.roles)
    assert not (must_not & set(d.roles)), (narrative, d.roles)
    assert d.priority == priority, (narrative, d.priority)
    assert flags <= set(d.flags), (narrative, d.flags)


def test_cold_exposure_is_not_an_overdose() -> None:
    d = _decide("drunk in a doorway, 15°F")
    assert "naloxone" not in d.flags
    assert "overdose" not in d.flags


def test_sitting_is_not_hitting_and_leave_is_not_ledge() -> None:
    assert "police" not in _decide("he is sitting on the couch crying, no weapons").roles
    words = read_narrative("voices telling her to leave the apartment")
    assert not words["ledge"].present


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("unresponsve", "unconscious"), ("knif", "weapon"), ("sucidal", "suicidal")],
)
def test_misspellings_within_two_edits_are_read(typed: str, meant: str) -> None:
    assert read_narrative(f"he is {typed}")[meant].present


# --- the lexicon is data ---------------------------------------------------------------


def test_the_shipped_lexicon_loads_and_has_each_category() -> None:
    lexicon = default_lexicon()
    for finding in (
        "exposure",
        "traffic",
        "ledge",
        "domestic",
        "wounded",
        "paraphernalia",
        "children",
    ):
        assert lexicon.findings[finding]


def test_a_phrase_listed_twice_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "lexicon.yaml"
    path.write_text(
        "negators: [no]\n"
        "classes: {intent: [], harm_verbs: [], threat_targets: [], reflexive: [], attack_verbs: [],"
        " wield_verbs: [], body_parts: [], not_misspellings: []}\n"
        "findings: {medical: [herido, Herido]}\n"
    )
    with pytest.raises(LexiconError, match="listed twice"):
        load_lexicon(path, known_words=None)


def test_a_jurisdiction_adds_its_own_words() -> None:
    override = LexiconOverride(add={"weapon": ("war club",)})
    policy = DEFAULT.model_copy(update={"triage": TriageSettings(lexicon=override)})
    assert "war club" in lexicon_for(policy).findings["weapon"]
    call = CallIntake(narrative="waving a war club at the door")
    assert "police" in decide(call, policy).roles
    with pytest.raises(LexiconError):
        default_lexicon().overridden({"no_such_finding": ("x",)}, {})
