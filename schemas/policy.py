"""A jurisdiction's triage policy: which response programs exist there, and its version.

Policies are data (``deploy/policies/<jurisdiction>.yaml``), validated in full when
loaded: a service never runs with a half-valid policy. This module is the shape
and the rules of a valid policy; reading files is the adapters' job.
"""

from collections.abc import Iterable, Iterator
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from schemas.calls import E164


class UnknownJurisdiction(LookupError):
    """No policy exists for the jurisdiction named in the call."""


class Programs(BaseModel):
    """The response programs a jurisdiction can send (DOMAIN.md's response models)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    police: bool
    co_responder: bool
    clinician: bool = Field(description="an in-person clinician / community response program")
    firehouse: bool
    telehealth: bool


class EscalationStep(BaseModel):
    """One step: offer to this many candidates at once, then wait this long for an accept."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ack_seconds: int = Field(ge=10, le=3600)
    offer_at_once: int = Field(default=1, ge=1, le=10)


class Escalation(BaseModel):
    """Who is offered an assignment, in what order, and who hears when nobody accepts.

    Like a paging system's escalation policy: the steps run in order over the
    ranked candidates; after the last step the steps run again ``repeat`` more
    times (offering units that did not answer before, never ones that declined);
    when candidates or loops run out, ``alert`` is told.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    steps: Annotated[list[EscalationStep], Field(min_length=1, max_length=10)]
    repeat: int = Field(default=0, ge=0, le=5)
    alert: Annotated[list[Literal["supervisor", "dispatcher"]], Field(min_length=1)] = [
        "supervisor"
    ]


class Wellbeing(BaseModel):
    """Critical-incident exposure: fatal overdoses, child-involved and violent incidents."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    window_days: int = Field(default=30, ge=1, le=365)
    threshold: int = Field(default=3, ge=1, le=100)


DEFAULT_ESCALATION: dict[Literal[1, 2, 3], Escalation] = {
    1: Escalation(
        steps=[
            EscalationStep(ack_seconds=150),
            EscalationStep(ack_seconds=120, offer_at_once=2),
            EscalationStep(ack_seconds=120, offer_at_once=3),
        ],
        repeat=1,
        alert=["supervisor", "dispatcher"],
    ),
    2: Escalation(
        steps=[EscalationStep(ack_seconds=300), EscalationStep(ack_seconds=300, offer_at_once=2)],
        repeat=1,
    ),
    3: Escalation(steps=[EscalationStep(ack_seconds=900)], repeat=2),
}


class FollowUp(BaseModel):
    """After a suspected overdose, an outreach visit (DOMAIN: within 24 to 72 h)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    after_overdose: bool = True
    hours: int = Field(default=48, ge=24, le=72, description="after the incident closes")
    team_phone: E164 | None = Field(
        default=None, description="the outreach team's on-call number, reminded by SMS"
    )


class MaxEta(BaseModel):
    """The longest ETA, in minutes, at which a unit is offered for a role without a dispatcher.

    A unit beyond it is shown as "far" and never offered automatically: the role
    goes to the policy's fallback (telehealth for a clinician, where the policy has
    it) or to a role-unfilled alert, and a dispatcher may still send it by hand.
    Rural policies set these higher. Telehealth needs no travel and has no limit.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    police: int = Field(default=30, ge=1, le=240)
    emt: int = Field(default=30, ge=1, le=240)
    clinician: int = Field(default=45, ge=1, le=240)

    def seconds_for(self, role: str) -> int | None:
        """The limit for ``role`` in seconds; None where the role has none (telehealth)."""
        minutes: int | None = getattr(self, role, None)
        return None if minutes is None else minutes * 60


class DispatchPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    auto_offer_priorities: list[Literal[1, 2, 3]] = Field(
        default=[1],
        description="priorities offered without waiting for a dispatcher to confirm",
    )
    max_clinician_eta_minutes: int = Field(
        default=20,
        ge=1,
        le=240,
        description="beyond this, telehealth replaces the in-person clinician",
    )
    max_eta_minutes: MaxEta = Field(
        default_factory=MaxEta,
        description="per role: beyond this ETA a unit is 'far' and never offered automatically",
    )
    escalation: dict[Literal[1, 2, 3], Escalation] = Field(
        default_factory=lambda: dict(DEFAULT_ESCALATION),
        description="per priority; a file that gives any priority must give all three",
    )
    wellbeing: Wellbeing = Wellbeing()
    follow_up: FollowUp = FollowUp()
    handoff_ack_seconds: int = Field(
        default=600, ge=60, le=7200, description="how long a provider has to answer a handoff"
    )
    supervisor_phones: list[E164] = Field(
        default=[],
        max_length=10,
        description="on-duty supervisors' numbers, paged by SMS when an alert names supervisors",
    )
    cover: dict[
        Literal[
            "weapons",
            "violence",
            "children_present",
            "naloxone",
            "suicide_risk",
            "overdose",
            "substance_use",
            "medical",
        ],
        dict[
            Literal["police", "clinician", "emt", "telehealth"],
            Annotated[int, Field(ge=1, le=5)],
        ],
    ] = Field(
        default_factory=dict,
        description="units a role needs when triage sets a flag, e.g. {weapons: {police: 2}}: "
        "an officer is not sent to a gun alone; the largest count of the call's flags wins",
    )

    def units_needed(self, role: str, flags: Iterable[str]) -> int:
        """How many units ``role`` needs on a call with these triage ``flags`` (at least 1)."""
        wanted = set(flags)
        return max(
            [
                1,
                *(
                    count
                    for flag, by_role in self.cover.items()
                    if flag in wanted
                    for named, count in by_role.items()
                    if named == role
                ),
            ]
        )

    @model_validator(mode="after")
    def _every_priority_escalates(self) -> "DispatchPolicy":
        missing = sorted({1, 2, 3} - set(self.escalation))
        if missing:
            raise ValueError(f"escalation: no steps for priority {', '.join(map(str, missing))}")
        return self


AnswerName = Literal[
    "weapons",
    "violence",
    "threat_to_others",
    "suicidal",
    "conscious",
    "breathing",
    "injury",
    "substance_use",
    "overdose_suspected",
    "children_present",
    "crime_in_progress",
]
RoleName = Literal["police", "clinician", "emt", "telehealth"]

# MPDS-style key questions, most decisive first when two change a decision alike:
# scene safety, then airway and consciousness, then the rest.
DEFAULT_QUESTIONS: tuple[AnswerName, ...] = (
    "weapons",
    "violence",
    "threat_to_others",
    "conscious",
    "breathing",
    "overdose_suspected",
    "suicidal",
    "injury",
    "crime_in_progress",
    "substance_use",
    "children_present",
)


class LexiconOverride(BaseModel):
    """A jurisdiction's own words: phrases added to or removed from the shipped findings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    add: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    remove: dict[str, tuple[str, ...]] = Field(default_factory=dict)


class TriageSettings(BaseModel):
    """How triage answers what it cannot yet know (DOMAIN principle 4) and who it names."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    provisional_roles: Annotated[tuple[RoleName, ...], Field(min_length=1)] = Field(
        default=("police", "clinician"),
        description="sent when nothing in the call was understood and safety is unknown",
    )
    provisional_priority: Literal[1, 2, 3] = 2
    rescue_roles: Annotated[tuple[RoleName, ...], Field(min_length=1)] = Field(
        default=("emt",),
        description="the rescue response for a person at a height or in water",
    )
    traffic_roles: Annotated[tuple[RoleName, ...], Field(min_length=1)] = Field(
        default=("emt",), description="sent to a person in traffic or on the tracks"
    )
    without_co_responder: Literal["clinician", "telehealth"] = Field(
        default="clinician",
        description="with no co-responder program, police go with a separate in-person "
        "clinician or a telehealth clinician (when clinicians exist at all)",
    )
    questions: Annotated[tuple[AnswerName, ...], Field(min_length=1)] = Field(
        default=DEFAULT_QUESTIONS, description="the key questions asked, in this order on ties"
    )
    lexicon: LexiconOverride = LexiconOverride()


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    jurisdiction: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
    version: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    description: str = ""
    programs: Programs
    telehealth_on_scene: Literal["emt", "police"] = Field(
        default="emt",
        description="who goes on scene to hold the tablet when telehealth replaces the "
        "clinician and no officer or EMT is needed for safety (DOMAIN principle 7)",
    )
    dispatch: DispatchPolicy = DispatchPolicy()
    triage: TriageSettings = TriageSettings()

    @property
    def in_person_clinicians(self) -> bool:
        return self.programs.clinician

    @model_validator(mode="after")
    def _someone_can_always_go(self) -> "Policy":
        # Safety first: weapons and medical emergencies need police and EMTs;
        # a behavioural crisis needs a clinician, in person or by video.
        if not self.programs.police:
            raise ValueError("programs.police: every jurisdiction needs a police response")
        if not self.programs.firehouse:
            raise ValueError("programs.firehouse: every jurisdiction needs an EMT response")
        if not (self.programs.clinician or self.programs.telehealth):
            raise ValueError(
                "programs: without an in-person clinician program, telehealth must exist"
            )
        return self


class PolicyBook:
    """Every jurisdiction's policy, looked up by name."""

    def __init__(self, policies: list[Policy]) -> None:
        self._by_jurisdiction = {p.jurisdiction: p for p in policies}

    def get(self, jurisdiction: str) -> Policy:
        try:
            return self._by_jurisdiction[jurisdiction]
        except KeyError:
            known = ", ".join(sorted(self._by_jurisdiction))
            raise UnknownJurisdiction(
                f"no triage policy for jurisdiction {jurisdiction!r}; known: {known}"
            ) from None

    def with_policy(self, policy: Policy) -> "PolicyBook":
        """This book with ``policy`` replacing its jurisdiction's (a what-if)."""
        return PolicyBook([*self._by_jurisdiction.values(), policy])

    def __iter__(self) -> Iterator[Policy]:
        return iter(sorted(self._by_jurisdiction.values(), key=lambda p: p.jurisdiction))

    def __contains__(self, jurisdiction: object) -> bool:
        return jurisdiction in self._by_jurisdiction
