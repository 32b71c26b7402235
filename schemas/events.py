"""Payloads (``data``) of the v1 events, and the registry from type name to model.

Each event carries only what its consumers need: triage never sees the caller's
phone, notify never sees the narrative or the triage reasons.
"""

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from schemas.calls import E164, Answers, Location
from schemas.envelope import EventType
from schemas.triage import TriageDecision
from schemas.vocabulary import (
    AlertKind,
    AssignmentStatus,
    CallSource,
    NotificationStatus,
    ReplyAnswer,
    ReplyChannel,
    Role,
)


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CallReceived(_Event):
    """dispatch → triage: a call was accepted and stored; please classify it."""

    incident_id: str
    incident_code: str
    received_at: datetime
    narrative: str
    answers: Answers
    location: Location | None = None
    source: CallSource
    jurisdiction: str


class CallTriaged(_Event):
    """triage → dispatch: the decision for one incident."""

    incident_id: str
    decided_at: datetime
    decision: TriageDecision


class AssignmentOffered(_Event):
    """dispatch → notify: a unit was offered an assignment; tell its contact.

    Minimum necessary: an incident code, the role asked, where to go. Never a
    narrative, a diagnosis, a substance or a name.
    """

    assignment_id: str
    incident_id: str
    incident_code: str
    unit_id: str
    call_sign: str
    role: Role
    priority: int
    contact_phone: E164 | None = None
    address: str | None = None
    lat: float | None = None
    lon: float | None = None
    offered_at: datetime
    expires_at: datetime | None = None
    # A telehealth clinician serves this incident by video and this unit goes on
    # scene (police, EMT): its SMS and page carry the way into the same room.
    video_session: bool = False


class AssignmentEnded(_Event):
    """dispatch → notify: an assignment reached a final state (declined, expired, cleared,
    cancelled); its offer can no longer be answered."""

    assignment_id: str
    incident_id: str
    status: AssignmentStatus
    ended_at: datetime


class NotificationStatusChanged(_Event):
    """notify → dispatch: where a message to a responder stands now."""

    notification_id: str
    incident_id: str
    assignment_id: str | None = None
    channel: str = "sms"
    status: NotificationStatus
    to_masked: str | None = None
    provider_message_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    occurred_at: datetime


class ResponderReplied(_Event):
    """notify → dispatch: a responder answered an offer (SMS, the responder page, or the console's
    simulated SMS)."""

    reply_id: str
    assignment_id: str
    incident_id: str
    answer: ReplyAnswer
    from_masked: str
    received_at: datetime
    # How they answered: by SMS, or with a button on the page their SMS link opens.
    channel: ReplyChannel = ReplyChannel.SMS


class TelehealthJoined(_Event):
    """notify → dispatch: the telehealth clinician opened their link and joined the video room."""

    assignment_id: str
    incident_id: str
    joined_at: datetime


class AlertRaised(_Event):
    """dispatch → notify: supervisors must look at an incident now; page them by SMS.

    The page says which incident and what kind of problem, from a fixed list; the
    details (who, why) stay in the console.
    """

    alert_id: str
    incident_id: str
    incident_code: str
    kind: AlertKind
    phones: list[E164]


class SubjectRevoked(_Event):
    """dispatch → every service: tokens of this subject issued before ``revoked_at`` are void.

    ``key`` is ``user:<id>`` (disabled, password or MFA reset), ``client:<id>``
    (API key revoked or rotated) or ``session:<id>`` (signed out).
    """

    key: str
    revoked_at: datetime
    reason: str


class AuditRecorded(_Event):
    """every service → dispatch's audit trail: who did what to which record, from where.

    ``action`` is the route (``GET /v1/incidents/{incident_id}``) or a named
    action (``auth.sign_in_failed``); ``outcome`` the HTTP status or ``ok``.
    """

    at: datetime
    service: str
    actor: str
    actor_kind: str
    roles: list[str]
    source_ip: str | None = None
    action: str
    target_type: str | None = None
    target_id: str | None = None
    outcome: str
    request_id: str | None = None


class FollowUpDue(_Event):
    """dispatch → notify: a post-overdose outreach visit is due; remind the outreach team.

    The reminder names the follow-up's own incident code and where to go; never
    why (no overdose, no substance, no name).
    """

    incident_id: str
    incident_code: str
    address: str | None = None
    lat: float | None = None
    lon: float | None = None
    team_phone: E164
    due_at: datetime


class HandoffOffered(_Event):
    """dispatch → notify: ask a provider's on-call contact to take a warm handoff.

    The provider's own name for its service, the incident code, and nothing
    about the person.
    """

    handoff_id: str
    incident_id: str
    incident_code: str
    organization: str
    service_name: str
    contact_phone: E164
    expires_at: datetime


class HandoffReplied(_Event):
    """notify → dispatch: a provider's on-call contact answered a handoff request by SMS."""

    handoff_id: str
    incident_id: str
    accepted: bool
    from_masked: str
    received_at: datetime


EVENT_DATA_MODELS: dict[str, type[BaseModel]] = {
    EventType.CALL_RECEIVED: CallReceived,
    EventType.CALL_TRIAGED: CallTriaged,
    EventType.ASSIGNMENT_OFFERED: AssignmentOffered,
    EventType.ASSIGNMENT_ENDED: AssignmentEnded,
    EventType.NOTIFICATION_STATUS: NotificationStatusChanged,
    EventType.RESPONDER_REPLIED: ResponderReplied,
    EventType.TELEHEALTH_JOINED: TelehealthJoined,
    EventType.FOLLOW_UP_DUE: FollowUpDue,
    EventType.HANDOFF_OFFERED: HandoffOffered,
    EventType.HANDOFF_REPLIED: HandoffReplied,
    EventType.ALERT_RAISED: AlertRaised,
    EventType.SUBJECT_REVOKED: SubjectRevoked,
    EventType.AUDIT_RECORDED: AuditRecorded,
}
