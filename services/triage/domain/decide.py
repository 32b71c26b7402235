"""Triage as a table of small rules: safety first, then the least intrusive response that is safe.

``decide()`` reads the call into :class:`Facts` (answers and narrative combined,
the safer reading winning any conflict), then applies :data:`RULES` in order to
a :class:`Draft`. Each rule has an id, a condition, an effect and a reason, and
is unit-tested on its own (tests/unit/test_triage_rule_table.py).

Order and conflict resolution (documented in the README's triage section):

1. Roles and flags only accumulate: no rule removes what an earlier one added,
   except the follow-up rule (DOMAIN 8: planned clinician work) and the policy
   rules at the end, which rename roles to the programs the jurisdiction has.
2. Priority is the most urgent any rule gave (1 beats 2 beats 3); the only rules
   that lower it are ``priority.safe_resource_request`` (only when nothing urgent
   was found) and ``follow_up.outreach``.
3. Safety before deflection (DOMAIN 4): police are left out only when the call
   was understood and nothing in it suggests danger; a call not understood gets
   the policy's provisional response (``safety.provisional``) and
   ``needs_answers``. Answers outrank the narrative only towards safety.
4. The key questions are computed last, by deciding again with each unanswered
   question answered the worrying way: a question is listed only if that
   answer would change the decision.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from schemas.calls import CallIntake
from schemas.policy import Policy
from schemas.triage import KeyQuestion, RationaleItem, TriageDecision
from schemas.vocabulary import CallSource, Category, Flag, ResponseModel, Role
from services.triage.domain.findings import Finding, Reader, from_answers, reader_for
from services.triage.domain.lexicon import Lexicon, default_lexicon

# What each intake answer is called in findings, and the worrying answer to try.
_QUESTION_FINDING = {
    "weapons": ("weapon", True),
    "violence": ("violence", True),
    "threat_to_others": ("threat", True),
    "crime_in_progress": ("crime", True),
    "conscious": ("unconscious", False),
    "breathing": ("not_breathing", False),
    "overdose_suspected": ("overdose", True),
    "injury": ("medical", True),
    "suicidal": ("suicidal", True),
    "substance_use": ("substance", True),
    "children_present": ("children", True),
}
_ASK = {
    "weapons": "Any weapons, or anything being used as one?",
    "violence": "Is anyone being hurt or fighting right now?",
    "threat_to_others": "Has the person threatened to hurt anyone?",
    "crime_in_progress": "Is a crime happening now?",
    "conscious": "Is the person awake and answering?",
    "breathing": "Is the person breathing normally?",
    "overdose_suspected": "Could this be an overdose?",
    "injury": "Is anyone injured or bleeding?",
    "suicidal": "Is the person talking about killing themselves?",
    "substance_use": "Has the person taken drugs or alcohol?",
    "children_present": "Are there children there?",
}
_SAFETY_ANSWERS = ("weapons", "violence", "threat_to_others")


# Not frozen (slots are faster to build, and Facts are built for every what-if);
# never changed after construction, so hashing them for the what-if memo is safe.
@dataclass(slots=True, unsafe_hash=True)
class Facts:
    """What the call establishes: answers and words combined, with the evidence of each."""

    weapon: bool = False
    maybe_armed: bool = False
    violence: bool = False
    crime: bool = False
    threat: bool = False
    aggression: bool = False
    domestic: bool = False
    wounded: bool = False
    self_inflicted: bool = False
    not_breathing: bool = False
    unconscious: bool = False
    overdose: bool = False
    medical: bool = False
    critical: bool = False
    pills: bool = False
    suicidal: bool = False
    ledge: bool = False
    water: bool = False
    disturbance: bool = False
    resource: bool = False
    elderly: bool = False
    past: bool = False
    unhurt: bool = False
    sexual: bool = False
    weapon_stored: bool = False
    si_denied: bool = False
    said_safe: bool = False
    means: bool = False
    withdrawal: bool = False
    substance: bool = False
    mental: bool = False
    children: bool = False
    exposure: bool = False
    altered: bool = False
    traffic: bool = False
    officer_on_scene: bool = False
    missing: bool = False
    welfare: bool = False
    unreached: bool = False
    understood: bool = False
    calm: bool = False
    unhoused: bool = False
    vague: bool = False
    low_mood: bool = False
    safety_established: bool = False
    follow_up: bool = False
    source: str = ""
    evidence: dict[str, list[str]] = field(default_factory=dict, compare=False)
    conflicts: tuple[RationaleItem, ...] = ()

    # Worked out once when built (below), not at each of the several rules that ask.
    danger: bool = field(init=False, compare=False, repr=False)
    urgent: bool = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        self.danger = (
            self.weapon
            or self.maybe_armed
            or self.violence
            or self.crime
            or self.threat
            or self.aggression
            or self.domestic
            or self.wounded
            or self.sexual
            # Yelling at customers is a disturbance: police unless the caller says it is safe.
            or (self.disturbance and not self.said_safe)
        )
        self.urgent = (
            self.danger
            or self.overdose
            or self.medical
            or self.pills
            or self.not_breathing
            or self.unconscious
            or self.suicidal
            or self.ledge
            or self.withdrawal
            or self.exposure
            or self.traffic
            or self.water
            or self.self_inflicted
        )

    def quote(self, *names: str) -> list[str]:
        return [e for n in names for e in self.evidence.get(n, [])]


@dataclass
class Draft:
    """The decision being built: rules add roles and flags and raise urgency."""

    roles: set[Role] = field(default_factory=set)
    flags: set[Flag] = field(default_factory=set)
    priority: int = 3
    why: list[RationaleItem] = field(default_factory=list)
    needs_answers: bool = False
    model: ResponseModel | None = None

    def urgent(self, priority: int) -> None:
        self.priority = min(self.priority, priority)


@dataclass(frozen=True)
class Rule:
    """One routing rule: when ``applies`` holds, ``effect`` changes the draft, for ``reason``."""

    id: str
    applies: Callable[[Facts, Policy], bool]
    effect: Callable[[Facts, Draft, Policy], None]
    reason: Callable[[Facts, Policy], str]
    evidence: Callable[[Facts], list[str]]


# --- effects ---------------------------------------------------------------


def _police(f: Facts, d: Draft, _p: Policy) -> None:
    d.roles.add(Role.POLICE)
    if f.sexual:
        # A sexual assault victim is met by an advocate (the clinician side) as well.
        d.roles.add(Role.CLINICIAN)
    if f.weapon or f.maybe_armed:
        d.flags.add(Flag.WEAPONS)
    if f.violence:
        d.flags.add(Flag.VIOLENCE)
    # Priority 1 is a weapon out, violence in progress or someone shot or
    # stabbed; a threat, a suspicion or aggression is urgent but not yet a life threat.
    # Violence that happened yesterday, with no weapon, is urgent but not in progress.
    # Domestic violence is not downgraded: strangulation last night is a lethality sign.
    in_progress = f.violence and not (f.past and not f.domestic)
    # Someone hiding from a person breaking in or lashing out: in progress, a life threat.
    cornered = (f.domestic or f.crime) and f.aggression
    # A threat against a family with the children there is a life threat now.
    cornered = cornered or (f.threat and f.children)
    # A knife in the kitchen drawer is a weapon within reach, not a weapon out.
    weapon_out = f.weapon and not f.weapon_stored
    d.urgent(1 if (weapon_out or in_progress or f.wounded or cornered) else 2)


def _police_reason(f: Facts, _p: Policy) -> str:
    found = [
        name
        for name, present in (
            ("weapon", f.weapon),
            ("violence in progress", f.violence),
            ("someone shot or stabbed", f.wounded),
            ("crime in progress", f.crime),
            ("threat to hurt someone", f.threat),
            ("domestic violence", f.domestic),
            ("sexual assault", f.sexual),
            ("possible weapon", f.maybe_armed),
            ("aggression", f.aggression),
        )
        if present
    ]
    return "police: " + ", ".join(found)


def _wound(f: Facts, d: Draft, _p: Policy) -> None:
    d.roles.add(Role.EMT)
    d.flags.add(Flag.MEDICAL)
    if f.self_inflicted:
        d.roles |= {Role.POLICE, Role.CLINICIAN}
        d.flags |= {Flag.WEAPONS, Flag.SUICIDE_RISK}
    d.urgent(1)


def _overdose(_f: Facts, d: Draft, _p: Policy) -> None:
    d.roles |= {Role.EMT, Role.CLINICIAN}
    d.flags |= {Flag.OVERDOSE, Flag.NALOXONE, Flag.MEDICAL, Flag.SUBSTANCE_USE}
    d.urgent(1)


def _medical(f: Facts, d: Draft, _p: Policy) -> None:
    d.roles.add(Role.EMT)
    d.flags.add(Flag.MEDICAL)
    if f.pills:
        # A handful of pills is presumed a self-poisoning until someone says otherwise:
        # the clinician comes for the warm handoff (as after an overdose).
        d.roles.add(Role.CLINICIAN)
    # Airway, consciousness, an ingestion, critical signs and a medical problem with
    # an altered mind (confused after a fall) are life threats now.
    d.urgent(1 if (f.not_breathing or f.unconscious or f.pills or f.critical or f.altered) else 2)


def _exposure(f: Facts, d: Draft, _p: Policy) -> None:
    d.roles.add(Role.EMT)
    d.flags.add(Flag.MEDICAL)
    if f.unhoused or f.resource or f.substance or f.mental:
        # Someone living outside in the cold, or drunk in it, also needs the clinician side.
        d.roles.add(Role.CLINICIAN)
    # Cold or heat with an altered mind (confused, mumbling) is hypothermia or
    # heat stroke under way; without, urgent.
    # A child left in a hot car, a man with dementia or autism out in the snow: a life
    # threat, since they cannot be expected to get themselves out of it.
    d.urgent(1 if (f.altered or f.unconscious or f.children or f.mental) else 2)


def _heights(_f: Facts, d: Draft, p: Policy) -> None:
    d.roles.add(Role.CLINICIAN)
    d.roles |= {Role(r) for r in p.triage.rescue_roles}
    d.flags.add(Flag.SUICIDE_RISK)
    d.urgent(1)


def _water(_f: Facts, d: Draft, p: Policy) -> None:
    d.roles |= {Role(r) for r in p.triage.rescue_roles}
    d.flags.add(Flag.MEDICAL)
    d.urgent(1)


def _traffic(f: Facts, d: Draft, p: Policy) -> None:
    d.roles |= {Role(r) for r in p.triage.traffic_roles}
    if not f.unconscious:
        # Someone awake who stays in traffic or on the tracks has a behavioural side.
        d.roles.add(Role.CLINICIAN)
    d.urgent(1)


def _suicide_acute(f: Facts) -> bool:
    return (
        f.ledge or f.pills or f.weapon or f.means or f.self_inflicted or (f.suicidal and f.medical)
    )


def _suicide(f: Facts, d: Draft, _p: Policy) -> None:
    d.roles.add(Role.CLINICIAN)
    d.flags.add(Flag.SUICIDE_RISK)
    # Principle 6: means at hand, an attempt under way or a ledge is a life
    # threat now; ideation alone is urgent.
    d.urgent(1 if _suicide_acute(f) else 2)


def _crisis(f: Facts, d: Draft, _p: Policy) -> None:
    d.roles.add(Role.CLINICIAN)
    if f.substance:
        d.flags.add(Flag.SUBSTANCE_USE)
    d.urgent(2)


def _welfare(f: Facts, d: Draft, _p: Policy) -> None:
    d.roles.add(Role.CLINICIAN)
    if f.unreached:
        # Someone nobody can reach may be down: urgent until the questions say otherwise.
        d.urgent(2)
        d.needs_answers = True


def _elder(_f: Facts, d: Draft, _p: Policy) -> None:
    d.roles.add(Role.EMT)
    d.flags.add(Flag.MEDICAL)
    d.urgent(2)


def _missing(f: Facts, d: Draft, _p: Policy) -> None:
    d.roles.add(Role.POLICE)
    # A missing child or a missing person who talked of dying is a life threat.
    d.urgent(1 if (f.children or f.suicidal or f.mental) else 2)


def _calm(_f: Facts, d: Draft, _p: Policy) -> None:
    d.priority = 3


def _provisional(f: Facts, d: Draft, p: Policy) -> None:
    if f.safety_established or f.understood:
        d.roles.add(Role.CLINICIAN)
        d.urgent(3)  # non-urgent, unless an earlier rule already said otherwise
        return
    d.roles |= {Role(r) for r in p.triage.provisional_roles}
    d.urgent(p.triage.provisional_priority)
    d.needs_answers = True


def _provisional_reason(f: Facts, p: Policy) -> str:
    if f.safety_established or f.understood:
        return "nothing urgent or dangerous in what was understood: clinician welfare check, P3"
    roles = " + ".join(p.triage.provisional_roles)
    return (
        f"call not understood and safety unknown: provisional {roles}, "
        f"P{p.triage.provisional_priority}, until the key questions are answered"
    )


def _children(_f: Facts, d: Draft, _p: Policy) -> None:
    d.flags.add(Flag.CHILDREN_PRESENT)


def _follow_up(_f: Facts, d: Draft, _p: Policy) -> None:
    d.roles = {Role.CLINICIAN}
    d.priority = 3
    d.needs_answers = False


def _follow_up_found_danger(_f: Facts, d: Draft, _p: Policy) -> None:
    # The visit is still clinician-side work; what was found now adds to it.
    d.roles.add(Role.CLINICIAN)


def _without_co_responder(_f: Facts, d: Draft, p: Policy) -> None:
    # Police and a clinician travel separately (or the clinician joins by video).
    if p.triage.without_co_responder == "telehealth" and p.programs.telehealth:
        d.roles.discard(Role.CLINICIAN)
        d.roles.add(Role.TELEHEALTH)
        d.model = ResponseModel.TELEHEALTH
    else:
        d.model = ResponseModel.POLICE


def _telehealth(_f: Facts, d: Draft, p: Policy) -> None:
    d.roles.discard(Role.CLINICIAN)
    d.roles.add(Role.TELEHEALTH)
    if not d.roles & {Role.POLICE, Role.EMT}:
        d.roles.add(Role(p.telehealth_on_scene))
    d.model = ResponseModel.TELEHEALTH


def _safety_unverified(_f: Facts, d: Draft, _p: Policy) -> None:
    d.needs_answers = True


# --- the table ---------------------------------------------------------------


def _fixed(text: str) -> Callable[[Facts, Policy], str]:
    return lambda _f, _p: text


RULES: tuple[Rule, ...] = (
    Rule(
        "safety.police",
        lambda f, _p: f.danger,
        _police,
        _police_reason,
        lambda f: (
            f.quote("weapon", "violence", "crime", "threat", "aggression", "domestic", "wounded")
            + f.quote("hedged_weapon")
        ),
    ),
    Rule(
        "medical.wounded",
        lambda f, _p: f.wounded or f.self_inflicted,
        _wound,
        lambda f, _p: (
            "shot or stabbed: EMT"
            + (
                ", police for the weapon and a clinician for the suicide attempt"
                if f.self_inflicted
                else ""
            )
        ),
        lambda f: f.quote("wounded", "self_inflicted"),
    ),
    Rule(
        "medical.overdose",
        lambda f, _p: f.overdose,
        _overdose,
        _fixed("suspected overdose: EMT with naloxone, clinician for the warm handoff"),
        lambda f: f.quote("overdose", "unconscious", "not_breathing", "opioid", "paraphernalia"),
    ),
    Rule(
        "medical.emergency",
        lambda f, _p: f.not_breathing or f.unconscious or f.medical or f.pills or f.critical,
        _medical,
        _fixed("medical danger (a person down of unknown cause included): EMT"),
        lambda f: f.quote("not_breathing", "unconscious", "medical", "critical", "pills_taken"),
    ),
    Rule(
        "medical.exposure",
        lambda f, _p: f.exposure,
        _exposure,
        lambda f, _p: "exposure to cold or heat: EMT" + (", altered: P1" if f.altered else ""),
        lambda f: f.quote("exposure", "altered"),
    ),
    Rule(
        "hazard.heights",
        lambda f, _p: f.ledge,
        _heights,
        lambda _f, p: (
            "person at a height or in water: clinician and the rescue response ("
            + ", ".join(p.triage.rescue_roles)
            + "), P1"
        ),
        lambda f: f.quote("ledge"),
    ),
    Rule(
        "hazard.water",
        lambda f, _p: f.water,
        _water,
        lambda _f, p: (
            "person in the water: the rescue response ("
            + ", ".join(p.triage.rescue_roles)
            + "), P1"
        ),
        lambda f: f.quote("water"),
    ),
    Rule(
        "hazard.traffic",
        lambda f, _p: f.traffic,
        _traffic,
        lambda _f, p: (
            "person in traffic or on the tracks: " + ", ".join(p.triage.traffic_roles) + ", P1"
        ),
        lambda f: f.quote("traffic"),
    ),
    Rule(
        "behavioural.suicide",
        lambda f, _p: f.suicidal,
        _suicide,
        lambda f, _p: (
            "suicide risk: clinician" + (", life threat now" if _suicide_acute(f) else "")
        ),
        lambda f: f.quote("suicidal", "means"),
    ),
    Rule(
        "behavioural.crisis",
        lambda f, _p: f.mental or f.substance or f.low_mood,
        _crisis,
        _fixed("behavioural-health or substance-use crisis: clinician"),
        lambda f: f.quote(
            "mental_health", "low_mood", "substance", "alcohol", "withdrawal", "opioid"
        ),
    ),
    Rule(
        "welfare.resources",
        # Asking for shelter or treatment, or living outside with no medical emergency.
        lambda f, _p: (
            f.resource
            or (f.unhoused and not (f.medical or f.unconscious or f.not_breathing or f.overdose))
        ),
        lambda _f, d, _p: d.roles.add(Role.CLINICIAN),
        _fixed("asking for shelter, treatment or other resources: the clinician side"),
        lambda f: f.quote("resource_request", "unhoused"),
    ),
    Rule(
        "medical.altered_elder",
        lambda f, _p: f.elderly and f.altered and not (f.calm or f.unhurt),
        _elder,
        _fixed("an older person with an altered mind may be medically ill (delirium): EMT"),
        lambda f: f.quote("elderly", "altered"),
    ),
    Rule(
        "welfare.check",
        lambda f, _p: (
            (f.welfare or f.unreached or f.unhoused)
            and not f.urgent
            and not (f.mental or f.substance)
        ),
        _welfare,
        lambda f, _p: (
            "welfare check: clinician"
            + (", P2 until someone has seen the person" if f.unreached else ", P3")
        ),
        lambda f: f.quote("welfare", "unreached"),
    ),
    Rule(
        "priority.safe_resource_request",
        # A welfare check on someone low in mood (not in crisis) is non-urgent too.
        lambda f, _p: (
            not f.urgent
            and (
                (f.calm and (f.mental or f.substance or f.low_mood))
                # Low in mood, no suicidal thoughts (asked, or a welfare check): safe, needs help.
                or (f.low_mood and (f.welfare or f.si_denied) and not (f.mental or f.substance))
            )
        ),
        _calm,
        _fixed("safe now or asking for a resource, no danger found: non-urgent"),
        lambda f: f.quote("safe", "resource_request"),
    ),
    Rule(
        "safety.provisional",
        lambda f, _p: (
            not (
                f.urgent
                or f.mental
                or f.substance
                or f.low_mood
                or f.welfare
                or f.unreached
                or f.unhoused
            )
        ),
        _provisional,
        _provisional_reason,
        lambda f: f.quote("safe") or ["(nothing in the call understood)"],
    ),
    Rule(
        "safety.unverified",
        lambda f, _p: not f.danger and not f.safety_established and not f.follow_up,
        _safety_unverified,
        _fixed("no danger found, but no answer or words establish safety: ask the key questions"),
        lambda _f: [],
    ),
    Rule(
        "safety.missing_person",
        lambda f, _p: f.missing,
        _missing,
        _fixed("a person missing: police search (with a clinician for the behavioural side)"),
        lambda f: f.quote("missing"),
    ),
    Rule(
        "safety.officer_on_scene",
        lambda f, _p: f.officer_on_scene,
        lambda _f, d, _p: d.roles.add(Role.POLICE),
        _fixed("an officer is already on scene and asking for help: police stay in the roles"),
        lambda f: f.quote("officer_on_scene"),
    ),
    Rule(
        "family.children_present",
        lambda f, _p: f.children,
        _children,
        _fixed("children present: family-support referral"),
        lambda f: f.quote("children"),
    ),
    Rule(
        "follow_up.outreach",
        lambda f, _p: f.follow_up and not (f.danger or f.not_breathing or f.unconscious),
        _follow_up,
        _fixed("follow-up visit: clinician-side outreach, no police, no EMT"),
        lambda f: [f"source={f.source}"],
    ),
    Rule(
        "follow_up.found_now",
        lambda f, _p: f.follow_up and (f.danger or f.not_breathing or f.unconscious),
        _follow_up_found_danger,
        _fixed("follow-up visit found danger now: the visit's clinician stays"),
        lambda f: [f"source={f.source}"],
    ),
)

# Applied to the draft's roles after the table: the jurisdiction's programs.
POLICY_RULES: tuple[
    tuple[
        str,
        Callable[[Draft, Policy], bool],
        Callable[[Facts, Draft, Policy], None],
        Callable[[Policy], str],
    ],
    ...,
] = (
    (
        "policy.without_co_responder",
        lambda d, p: (
            not p.programs.co_responder
            and p.in_person_clinicians
            and {Role.POLICE, Role.CLINICIAN} <= d.roles
        ),
        _without_co_responder,
        lambda p: (
            f"{p.jurisdiction} has no co-responder program: police and a "
            f"{p.triage.without_co_responder} go separately"
        ),
    ),
    (
        "policy.telehealth",
        lambda d, p: not p.in_person_clinicians and Role.CLINICIAN in d.roles,
        _telehealth,
        lambda p: (
            f"{p.jurisdiction} has no in-person clinician program: "
            "telehealth clinician with a unit on scene"
        ),
    ),
)


# --- reading the call into facts -----------------------------------------------


def facts_of(
    words: dict[str, Finding],
    answers: dict[str, bool | None],
    source: CallSource,
    explain: bool = True,
) -> Facts:
    """Combine the narrative's findings with the answers (pure: ``words`` is not changed).

    ``explain=False`` leaves out evidence and conflicts: the what-ifs of the key
    questions need only the outcome, and run many times per decision.
    """
    said = {name for name, f in words.items() if f.present}
    if "weapon_removed" in said and answers.get("weapon") is not True:
        # "brother took all the guns out of the house": the guns named are gone.
        said.discard("weapon")
    yes = {name for name, answer in answers.items() if answer is True}
    # Answers outrank the words only towards safety: a yes adds, a no never removes.
    has = said | yes
    weapon, violence, crime, threat = (
        "weapon" in has,
        "violence" in has,
        "crime" in has,
        "threat" in has,
    )
    not_breathing = "not_breathing" in has
    # "Passed out" that "wakes up when you talk to him" is not unresponsive; a
    # "no" to the consciousness question still is.
    unconscious = "unconscious" in (yes if "responsive" in said else has)
    # Unresponsive or not breathing after drug use is a suspected overdose:
    # naloxone is given empirically, and costs nothing if it was not opioids.
    # Alcohol alone does not make it one; an unknown substance does (unknown
    # pills may be pressed fentanyl).
    drugs = bool(said & _DRUG_WORDS) or "substance" in yes
    # On a follow-up visit, "after an overdose" is history: only what is
    # happening now (unresponsive, not breathing after use) is an overdose.
    follow_up = source == CallSource.FOLLOW_UP
    # Unresponsive and blue with no other explanation given (no cardiac, diabetic or
    # seizure words, not an older person) is treated as an opioid overdose: naloxone
    # is harmless if it was not one.
    unexplained_blue = "cyanosis" in said and unconscious and not (said & _OTHER_CAUSES)
    # "after her son's overdose last month": history, unless someone is down now.
    down_now = unconscious or not_breathing
    history = "past" in said and not down_now
    overdose = (
        ("overdose" in has and (not follow_up or "overdose" in yes) and not history)
        or (drugs and (unconscious or not_breathing))
        or ("opioid" in said and "pills_taken" in said)
        or unexplained_blue
    )
    if answers.get("substance") is False:
        # "doesn't drink or use": slurring or shaking is then medical, not intoxication.
        substance = "opioid" in said or "substance" in said
    else:
        substance = bool(has & _SUBSTANCE)
    # Safety is established by answers or explicit words ("no weapons", "not
    # violent", "hasn't hurt anyone"), never by silence.
    no_danger = {n for n in _SAFETY if answers.get(n) is False or words[n].negated}
    safety_established = len(no_danger) == 3 or (
        "weapon" in no_danger and ("no_danger" in said or len(no_danger) == 2)
    )
    suicidal = "suicidal" in has or "self_inflicted" in said
    calm_words = bool(words["safe"].present or words["resource_request"].present)
    return Facts(
        weapon=weapon,
        maybe_armed=not weapon and bool(words["weapon"].hedged),
        violence=violence,
        crime=crime,
        threat=threat,
        aggression="aggression" in said,
        domestic="domestic" in said,
        wounded="wounded" in said and "self_inflicted" not in said,
        self_inflicted="self_inflicted" in said,
        not_breathing=not_breathing,
        unconscious=unconscious,
        overdose=overdose,
        # An attempt under way with a clouded mind (groggy after the garage, the pills) is medical.
        # Withdrawal (or a long binge) with hallucinations is delirium tremens: medical.
        medical="medical" in has
        or "critical" in said
        or (suicidal and "altered" in said)
        or ("hallucination" in said and bool(said & _WITHDRAWAL))
        # A racing heart after meth or cocaine is a stimulant toxicity question for an EMT.
        or ("palpitations" in said and substance)
        # Goodbye messages and then no answer at the door may be an attempt under way.
        or (suicidal and "unreached" in said),
        critical="critical" in said or ("hallucination" in said and bool(said & _WITHDRAWAL)),
        pills="pills_taken" in said,
        suicidal=suicidal,
        ledge="ledge" in said,
        water="water" in said,
        disturbance="disturbance" in said,
        resource="resource_request" in said,
        elderly="elderly" in said,
        past="past" in said,
        unhurt=bool(words["medical"].negated) or answers.get("medical") is False,
        sexual="sexual_assault" in said,
        weapon_stored="weapon_stored" in said,
        si_denied=bool(words["suicidal"].negated)
        or "si_denied" in said
        or answers.get("suicidal") is False,
        said_safe="no_danger" in said or safety_established,
        means="means" in said,
        withdrawal="withdrawal" in said,
        substance=substance,
        mental="mental_health" in said,
        children="children" in has,
        exposure="exposure" in said,
        altered="altered" in said,
        # Someone flying a sign on the median, calm, is panhandling, not a traffic crisis.
        traffic="traffic" in said
        and not ("unhoused" in said and ("no_danger" in said or "safe" in said or calm_words)),
        officer_on_scene="officer_on_scene" in said,
        missing="missing" in said,
        welfare="welfare" in said,
        unreached="unreached" in said,
        unhoused="unhoused" in said,
        vague="vague" in said,
        low_mood="low_mood" in said,
        # "Acting strange" says something is wrong, not what: not understood.
        # (The cheap set test first: the same answer, either order.)
        understood=bool(said - _NOT_UNDERSTANDING)
        or any(f.negated or f.hedged for f in words.values()),
        calm="safe" in said or "resource_request" in said,
        safety_established=safety_established,
        follow_up=follow_up,
        source=source.value,
        evidence=_evidence(words, answers) if explain else {},
        conflicts=_conflicts(said, answers, words) if explain else (),
    )


_OTHER_CAUSES = frozenset({"critical", "elderly", "water", "wounded", "self_inflicted", "medical"})
_WITHDRAWAL = frozenset({"withdrawal", "alcohol", "bender"})
_DRUG_WORDS = frozenset({"opioid", "substance", "paraphernalia", "pills_taken"})
_SUBSTANCE = frozenset({"substance", "opioid", "withdrawal", "alcohol"})
_SAFETY = ("weapon", "violence", "threat")
_NOT_UNDERSTANDING = frozenset({"children", "vague"})


def _conflicts(
    said: set[str], answers: dict[str, bool | None], words: dict[str, Finding]
) -> tuple[RationaleItem, ...]:
    """Each answer "no" the words contradict: the safer reading (the words) is kept."""
    return tuple(
        RationaleItem(
            rule="conflict.safer_reading",
            reason=f"answer says no {name}, narrative suggests it: keeping the safer reading",
            evidence=[f"answers.{name}=false", *words[name].evidence],
        )
        for name, answer in answers.items()
        if answer is False and name in said
    )


def _evidence(words: dict[str, Finding], answers: dict[str, bool | None]) -> dict[str, list[str]]:
    evidence = {name: list(f.evidence) for name, f in words.items() if f.evidence}
    for name, value in answers.items():
        if value is True and name not in ("unconscious", "not_breathing"):
            evidence.setdefault(name, []).insert(0, f"answers.{name}")
    if answers.get("unconscious"):
        evidence.setdefault("unconscious", []).insert(0, "answers.conscious=false")
    if answers.get("not_breathing"):
        evidence.setdefault("not_breathing", []).insert(0, "answers.breathing=false")
    evidence["hedged_weapon"] = list(words["weapon"].hedged)
    return evidence


# --- deciding ------------------------------------------------------------------


def apply_rules(facts: Facts, policy: Policy, explain: bool = True) -> Draft:
    """Run the table over the facts: the draft decision with every rule that fired."""
    draft = Draft(why=list(facts.conflicts))
    for rule in RULES:
        if rule.applies(facts, policy):
            rule.effect(facts, draft, policy)
            if explain:
                draft.why.append(
                    RationaleItem(
                        rule=rule.id,
                        reason=rule.reason(facts, policy),
                        evidence=rule.evidence(facts),
                    )
                )
    if draft.model is None:
        draft.model = _response_model(draft.roles)
    for rule_id, applies, effect, reason in POLICY_RULES:
        if applies(draft, policy):
            effect(facts, draft, policy)
            if explain:
                draft.why.append(
                    RationaleItem(
                        rule=rule_id,
                        reason=reason(policy),
                        evidence=[f"policy.{policy.jurisdiction}"],
                    )
                )
    return draft


# What-if outcomes by (policy, facts): the facts of real calls repeat a great
# deal, and a pure function may be remembered. Bounded: cleared when full.
_WHAT_IF: dict[tuple[int, Facts], Draft] = {}
_WHAT_IF_MAX = 8192


def _what_if(
    words: dict[str, Finding], answers: dict[str, bool | None], source: CallSource, policy: Policy
) -> Draft:
    facts = facts_of(words, answers, source, explain=False)
    key = (id(policy), facts)
    draft = _WHAT_IF.get(key)
    if draft is None:
        if len(_WHAT_IF) >= _WHAT_IF_MAX:
            _WHAT_IF.clear()
        draft = _WHAT_IF[key] = apply_rules(facts, policy, explain=False)
    return draft


_LEXICONS: dict[int, tuple[Policy, Lexicon]] = {}


def lexicon_for(policy: Policy) -> Lexicon:
    """The shipped lexicon with the jurisdiction's own words, built once per policy."""
    override = policy.triage.lexicon
    if not override.add and not override.remove:
        return default_lexicon()
    cached = _LEXICONS.get(id(policy))
    if cached is None or cached[0] is not policy:
        cached = (policy, default_lexicon().overridden(override.add, override.remove))
        _LEXICONS[id(policy)] = cached
    return cached[1]


def _reader(policy: Policy) -> Reader:
    return reader_for(lexicon_for(policy))


def decide(call: CallIntake, policy: Policy) -> TriageDecision:
    """Classify one call under one policy. Pure: same input, same output."""
    words = _reader(policy).read(call.narrative)
    answers = from_answers(call.answers)
    facts = facts_of(words, answers, call.source)
    draft = apply_rules(facts, policy)
    given = [q for q in _QUESTION_FINDING if getattr(call.answers, q) is not None]
    missing: list[str] = [q for q in policy.triage.questions if getattr(call.answers, q) is None]
    questions = _key_questions_of(words, answers, call.source, policy, draft, missing)
    return TriageDecision(
        category=_category(draft.flags, facts),
        priority=draft.priority,
        response_model=draft.model or _response_model(draft.roles),
        roles=sorted(draft.roles),
        flags=sorted(draft.flags),
        rationale=draft.why,
        policy_version=policy.version,
        key_questions=list(questions),
        needs_answers=draft.needs_answers and bool(questions),
        answers_given=given,
        answers_missing=missing,
    )


# Key questions by what the call established: they depend on which findings
# were present, negated or hedged (not on the words themselves), the answers, the
# source and the policy. Calls repeat these patterns a great deal, so the what-ifs
# are remembered (bounded: cleared when full) to keep a decision well under 0.5 ms.
_QUESTIONS: dict[tuple[object, ...], list[KeyQuestion]] = {}
_QUESTIONS_MAX = 16_384


def _key_questions_of(
    words: dict[str, Finding],
    answers: dict[str, bool | None],
    source: CallSource,
    policy: Policy,
    draft: Draft,
    missing: list[str],
) -> list[KeyQuestion]:
    # from_answers always lists the same answers in the same order: values suffice.
    key = (
        id(policy),
        source,
        frozenset([(n, f.present, bool(f.negated), bool(f.hedged)) for n, f in words.items()]),
        tuple(answers.values()),
    )
    found = _QUESTIONS.get(key)
    if found is None:
        if len(_QUESTIONS) >= _QUESTIONS_MAX:
            _QUESTIONS.clear()
        found = _QUESTIONS[key] = _key_questions(words, answers, source, policy, draft, missing)
    return found


def _key_questions(
    words: dict[str, Finding],
    answers: dict[str, bool | None],
    source: CallSource,
    policy: Policy,
    draft: Draft,
    missing: list[str],
) -> list[KeyQuestion]:
    """Each unanswered question whose worrying answer would change the decision, ranked."""
    ranked: list[tuple[int, int, KeyQuestion]] = []
    for order, question in enumerate(missing):
        finding, worrying = _QUESTION_FINDING[question]
        if words[finding].present or words[finding].negated:
            continue  # the words already said it, yes or no: asked and answered
        what_if = dict(answers)
        what_if[finding] = True
        other = _what_if(words, what_if, source, policy)
        change, weight = _difference(draft, other)
        if change:
            ask = KeyQuestion(
                answer=question, ask=_ASK[question], if_answer=worrying, changes=change
            )
            ranked.append((-weight, order, ask))
    if Role.POLICE in draft.roles and draft.needs_answers:
        # Deflection is earned: "no" to all three safety questions lets police stand down.
        what_if = dict(answers)
        for question in _SAFETY_ANSWERS:
            if question in missing:
                what_if[_QUESTION_FINDING[question][0]] = False
        other = _what_if(words, what_if, source, policy)
        change, weight = _difference(draft, other)
        if change and Role.POLICE not in other.roles:
            ask = KeyQuestion(
                answer="weapons",
                ask="No weapons, no violence and no threat to anyone?",
                if_answer=False,
                changes=change,
            )
            ranked.append((-weight, -1, ask))
    return [q for _w, _o, q in sorted(ranked, key=lambda r: (r[0], r[1]))]


_ROLE_WEIGHT = {Role.POLICE: 120, Role.EMT: 110, Role.CLINICIAN: 50, Role.TELEHEALTH: 50}


def _difference(now: Draft, then: Draft) -> tuple[str, int]:
    """What a different answer would change, and how decisive that is."""
    parts: list[str] = []
    weight = 0
    for role in sorted(then.roles - now.roles):
        parts.append(f"{role.value} joins")
        # Scene safety first (MPDS order), then the medical response, then care.
        weight += _ROLE_WEIGHT[role]
    for role in sorted(now.roles - then.roles):
        parts.append(f"no {role.value}")
        weight += 40
    if then.priority != now.priority:
        parts.append(f"P{then.priority}")
        weight += 20 * abs(now.priority - then.priority)
    for flag in sorted(then.flags - now.flags):
        parts.append(flag.value)
        weight += 1
    return ", ".join(parts), weight


def _response_model(roles: set[Role]) -> ResponseModel:
    if Role.POLICE in roles:
        return ResponseModel.CO_RESPONDER if Role.CLINICIAN in roles else ResponseModel.POLICE
    if Role.EMT in roles:
        return ResponseModel.FIREHOUSE
    return ResponseModel.CLINICIAN


def _category(flags: set[Flag], f: Facts) -> Category:
    if Flag.OVERDOSE in flags:
        return Category.OVERDOSE
    if Flag.WEAPONS in flags or Flag.VIOLENCE in flags or f.threat or f.domestic:
        return Category.VIOLENCE
    if Flag.SUICIDE_RISK in flags:
        return Category.SUICIDE_RISK
    if Flag.MEDICAL in flags or f.medical:
        return Category.MEDICAL
    if f.mental:
        return Category.MENTAL_HEALTH
    if f.substance:
        return Category.SUBSTANCE_USE
    return Category.WELFARE


__all__ = ["RULES", "Draft", "Facts", "Rule", "apply_rules", "decide", "facts_of"]
