"""Public HTTP bodies that are not events: call acceptance, the incident view, problems."""

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from schemas.calls import Answers, Caller, Location
from schemas.triage import TriageDecision
from schemas.vocabulary import (
    AlertKind,
    AssignmentStatus,
    CallSource,
    Disposition,
    IncidentStatus,
    NotificationStatus,
    Role,
)

_ISO_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def _iso_only(value: Any) -> Any:
    # pydantic would read "0.5" as seconds after 1970: a time filter must say what it means.
    if isinstance(value, str) and not _ISO_DATE_TIME.match(value):
        raise ValueError("an ISO 8601 date-time, e.g. 2026-11-25T14:00:00Z")
    if not isinstance(value, str | datetime):
        raise ValueError("an ISO 8601 date-time, e.g. 2026-11-25T14:00:00Z")
    return value


IsoDateTime = Annotated[datetime, BeforeValidator(_iso_only)]
"""A date-time given as ISO 8601 text only (query filters): no numbers read as epochs."""


def _with_zone(value: datetime) -> datetime:
    # SQLite hands datetimes back naive; every one corespond stores is UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


Instant = Annotated[datetime, AfterValidator(_with_zone)]
"""A date-time in a response: always with its offset, whichever database it came from."""


class CallAccepted(BaseModel):
    """The 202 answer: the call is stored and will be processed."""

    incident_id: str
    incident_code: str
    status: IncidentStatus
    received_at: Instant
    href: str


class AssignmentView(BaseModel):
    id: str
    unit_id: str
    call_sign: str
    role: Role
    status: AssignmentStatus
    eta_seconds: int | None = None
    reasons: list[str] = Field(default_factory=list)
    offered_at: Instant
    updated_at: Instant
    updated_by: str = "dispatch"
    expires_at: Instant | None = Field(default=None, description="when an unanswered offer expires")
    override_reason: str | None = Field(
        default=None, description="why the dispatcher departed from the recommendation"
    )
    mutual_aid: bool = Field(
        default=False,
        description="the unit comes from outside the incident's service area (mutual aid)",
    )


class RecommendationEntry(BaseModel):
    """The best unit for one role, with its ETA and the reasons, and the next few."""

    role: Role
    unit_id: str | None = None
    call_sign: str | None = None
    eta_seconds: int | None = None
    mutual_aid: bool = Field(
        default=False,
        description="the recommended unit is from outside the incident's service area: no "
        "home-area unit is within the policy's maximum ETA",
    )
    reasons: list[str] = Field(default_factory=list)
    alternatives: list[dict[str, Any]] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    needed: int = Field(
        default=1, description="units the role needs: more than one where the policy asks for cover"
    )
    cover_units: list[dict[str, Any]] = Field(
        default_factory=list,
        description="with cover, the units recommended after the best one (unit_id, call_sign, "
        "eta_seconds, mutual_aid)",
    )


class RoleView(BaseModel):
    """One role the incident needs, and whether a unit covers it."""

    role: Role
    state: Literal["filled", "offered", "unfilled"] = Field(
        description="filled: a unit accepted (or is en route, on scene, done); "
        "offered: asked, no yes yet; unfilled: nobody asked or coming"
    )
    call_signs: list[str] = Field(
        default_factory=list, description="the units covering the role, or else those asked"
    )
    assignment_status: AssignmentStatus | None = None
    needed: int = Field(
        default=1,
        description="units the role needs (the policy's cover, e.g. two police for weapons); "
        "filled once that many have accepted",
    )


class NotificationView(BaseModel):
    id: str
    assignment_id: str | None = None
    channel: str
    status: NotificationStatus
    to_masked: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    updated_at: Instant


class TimelineEntry(BaseModel):
    at: Instant
    kind: str
    summary: str
    actor: str
    event_id: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class IncidentView(BaseModel):
    """The dispatcher's single pane for one incident."""

    id: str
    code: str
    status: IncidentStatus
    received_at: Instant
    updated_at: Instant
    source: CallSource
    jurisdiction: str
    purged_at: Instant | None = Field(
        default=None,
        description="when the retention purge removed the personal fields (narrative, answers, "
        "caller, exact location, free text); null while the incident is whole",
    )
    narrative: str | None = Field(description="null once purged")
    answers: Answers | None = Field(description="null once purged")
    location: Location | None = None
    locations: dict[str, Any] = Field(
        default_factory=dict,
        description="every source of the incident's place (reported, geocoded, pin) with its time",
    )
    location_used: str | None = Field(
        default=None, description="which of ``locations`` ETAs are measured to"
    )
    location_source: str | None = Field(
        default=None,
        description="how that point was found: pin (a dispatcher's), address_points (the "
        "imported address file), online (the online geocoder) or intake (given with the call)",
    )
    location_confidence: float | None = Field(
        default=None, description="how sure that point is, from 0 to 1 (a pin: 1)"
    )
    caller: Caller | None = None
    language: str | None = Field(
        default=None, description="the caller's language (BCP 47), as given at intake"
    )
    triage: TriageDecision | None = None
    recommendation: list[RecommendationEntry] = Field(default_factory=list)
    roles: list[RoleView] = Field(
        default_factory=list, description="every role the plan needs, and its state"
    )
    unfilled_roles: list[Role] = Field(
        default_factory=list,
        description="roles nobody is asked for or coming to (empty: every role is covered "
        "or asked); the status reads unassigned while any is",
    )
    mutual_aid: list[str] = Field(
        default_factory=list,
        description="call signs of units from outside the incident's service area that are "
        "recommended, offered or sent (mutual aid)",
    )
    disposition: Disposition | None = None
    closed_at: Instant | None = None
    assignments: list[AssignmentView] = Field(default_factory=list)
    notifications: list[NotificationView] = Field(default_factory=list)
    timeline: list[TimelineEntry] = Field(default_factory=list)


class IncidentSummary(BaseModel):
    id: str
    code: str
    status: IncidentStatus
    priority: int | None = None
    response_model: str | None = None
    jurisdiction: str = Field(default="default", description="whose policy the call is under")
    received_at: Instant
    updated_at: Instant
    address: str | None = Field(default=None, description="as the caller gave it")
    category: str | None = Field(default=None, description="the nature of the call, from triage")
    unfilled_roles: list[str] = Field(
        default_factory=list, description="roles nobody is asked for or coming to (open only)"
    )
    lat: float | None = Field(default=None, description="the point ETAs are measured to")
    lon: float | None = None


class AlertView(BaseModel):
    """An alert as the console lists it: what, about which incident, who has it in hand."""

    id: str
    kind: AlertKind
    incident_id: str | None
    incident_code: str | None = None
    priority: int | None = None
    unit_id: str | None
    audience: list[str]
    summary: str
    raised_at: Instant
    acknowledged_by: str | None = None
    acknowledged_at: Instant | None = None
    cleared_at: Instant | None = None
    cleared_reason: str | None = None


class ProblemField(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details (``application/problem+json``)."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[ProblemField] = Field(default_factory=list)
