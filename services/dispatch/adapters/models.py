"""dispatch's tables: incidents, their timeline, units, assignments, and notification states.

What a caller said or is (the narrative, their phone, the answers, where they
are, the triage evidence quoting them) and any free text a person types (timeline
notes, override reasons) is encrypted at rest (``EncryptedText`` /
``EncryptedJSON``). Responders' and providers' phone numbers are staff contact
numbers, looked up and matched in SQL, and stay plain.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from services.common.encrypted_columns import EncryptedJSON, EncryptedText


class Base(DeclarativeBase):
    pass


class IncidentRecord(Base):
    __tablename__ = "incidents"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    code: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(24), index=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    source: Mapped[str] = mapped_column(String(24))
    jurisdiction: Mapped[str] = mapped_column(String(64))
    # None once purged (``purged_at``), like every personal field below.
    narrative: Mapped[str | None] = mapped_column(EncryptedText)
    answers: Mapped[dict[str, Any] | None] = mapped_column(EncryptedJSON)
    location: Mapped[dict[str, Any] | None] = mapped_column(EncryptedJSON)
    caller: Mapped[dict[str, Any] | None] = mapped_column(EncryptedJSON)
    # The decision as triage sent it; its evidence quotes the caller's words.
    triage: Mapped[dict[str, Any] | None] = mapped_column(EncryptedJSON, default=None)
    priority: Mapped[int | None] = mapped_column(Integer, default=None)
    response_model: Mapped[str | None] = mapped_column(String(24), default=None)
    created_by: Mapped[str] = mapped_column(String(128))
    # Where the incident is, kept apart by source: {"reported": {...}, "geocoded":
    # {...}, "pin": {...}}, each with its time; none overwrites another.
    # After the retention purge only a coarse {"area": {...}} is left.
    locations: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON, default=dict)
    # The caller's language (BCP 47), a tie-breaker in ranking; not personal enough to seal.
    language: Mapped[str | None] = mapped_column(String(35), default=None)
    # The recommendation shown to the dispatcher (and what auto-offer used).
    recommendation: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, default=None)
    disposition: Mapped[str | None] = mapped_column(String(32), default=None)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    closed_by: Mapped[str | None] = mapped_column(String(128), default=None)
    # When the retention purge removed the personal fields (None: still whole).
    purged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)

    __table_args__ = (
        # A short code is what a responder texts back; it must be unambiguous
        # among incidents still open.
        Index(
            "uq_incidents_open_code",
            "code",
            unique=True,
            sqlite_where=text("status != 'closed'"),
            postgresql_where=text("status != 'closed'"),
        ),
    )


class TimelineRecord(Base):
    __tablename__ = "timeline"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(128))
    # Sealed: a closing note or a reason typed by a person can quote the caller.
    summary: Mapped[str] = mapped_column(EncryptedText)
    event_id: Mapped[str | None] = mapped_column(String(128), default=None)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class UnitRoleRecord(Base):
    """The roles a unit can fill, one row each, so candidates are found by index, not by scan."""

    __tablename__ = "unit_roles"

    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True, index=True)


class UnitRecord(Base):
    __tablename__ = "units"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    call_sign: Mapped[str] = mapped_column(String(32), unique=True)
    agency: Mapped[str] = mapped_column(String(64))
    role_rows: Mapped[list[UnitRoleRecord]] = relationship(
        lazy="selectin", cascade="all, delete-orphan"
    )
    capabilities: Mapped[list[str]] = mapped_column(JSON, default=list)
    phone: Mapped[str | None] = mapped_column(String(20), default=None)
    status: Mapped[str] = mapped_column(String(24))
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The location used for ETAs: the newest of the device's and the manual one.
    lat: Mapped[float | None] = mapped_column(Float, default=None)
    lon: Mapped[float | None] = mapped_column(Float, default=None)
    location_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    location_source: Mapped[str | None] = mapped_column(String(16), default=None)
    # Each source kept apart with its time: {"device": {...}, "manual": {...}}.
    locations: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Bumped on every change: conditional updates on it are how a unit is never
    # booked twice, on SQLite and PostgreSQL alike.
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Committed from an offer until the assignment is final, whatever the unit
    # reports: only this decides whether it can be offered.
    current_assignment_id: Mapped[str | None] = mapped_column(String(64), default=None)
    current_incident_id: Mapped[str | None] = mapped_column(String(64), default=None)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    # The unit's phone sent STOP (notify skipped an offer with ``opted_out``): an
    # offer by SMS would never arrive, so it is not offered automatically and the
    # board says why. Cleared when the unit's phone number is changed.
    sms_opted_out: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The area the unit's agency serves: a policy jurisdiction and optionally a
    # GeoJSON Polygon/MultiPolygon. Outside it the unit is only mutual aid; with
    # neither, it is home everywhere.
    jurisdiction: Mapped[str | None] = mapped_column(String(64), default=None)
    service_area: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)

    __table_args__ = (
        # The candidate search is "free units in a latitude band": one index range
        # scan. (An index on status alone made SQLite read every available unit.)
        Index("ix_units_status_lat", "status", "lat"),
    )

    @property
    def roles(self) -> list[str]:
        return sorted(r.role for r in self.role_rows)


class AssignmentRecord(Base):
    __tablename__ = "assignments"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"), index=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"), index=True)
    call_sign: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    eta_seconds: Mapped[int | None] = mapped_column(Integer, default=None)
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    offered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(String(128), default="dispatch")
    # Which escalation round offered it: (loop, step) of the policy's steps.
    loop: Mapped[int] = mapped_column(Integer, default=0)
    step: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    # Free text a dispatcher typed: sealed like the narrative it may quote.
    override_reason: Mapped[str | None] = mapped_column(EncryptedText, default=None)
    # The unit came from outside the incident's service area (mutual aid).
    mutual_aid: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The assignment.offered event: sent again when notify never reported on it.
    offer_event_id: Mapped[str | None] = mapped_column(String(128), default=None)

    __table_args__ = (
        # The last word on double booking: one live assignment per unit, enforced
        # by the database itself on SQLite and PostgreSQL alike.
        Index(
            "uq_assignments_live_unit",
            "unit_id",
            unique=True,
            sqlite_where=text("status IN ('offered', 'accepted', 'en_route', 'on_scene')"),
            postgresql_where=text("status IN ('offered', 'accepted', 'en_route', 'on_scene')"),
        ),
    )


class TimerRecord(Base):
    """A stored deadline (offer expiry): it survives a restart, and one replica fires it."""

    __tablename__ = "timers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    incident_id: Mapped[str] = mapped_column(String(64), index=True)
    assignment_id: Mapped[str | None] = mapped_column(String(64), default=None)
    handoff_id: Mapped[str | None] = mapped_column(String(64), default=None)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    fired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class AlertRecord(Base):
    """Something a supervisor must see: a role nobody accepted, a responder over threshold."""

    __tablename__ = "alerts"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    incident_id: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    unit_id: Mapped[str | None] = mapped_column(String(64), default=None)
    audience: Mapped[list[str]] = mapped_column(JSON, default=list)
    summary: Mapped[str] = mapped_column(Text)
    raised_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    acknowledged: Mapped[bool] = mapped_column(Boolean, default=False)
    # What within the incident it is about (a role, a handoff id), so it can clear by itself.
    subject: Mapped[str | None] = mapped_column(String(64), default=None)
    acknowledged_by: Mapped[str | None] = mapped_column(String(128), default=None)
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    # Set when the condition ended (or, for a well-being alert, when acknowledged).
    cleared_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), default=None, index=True
    )
    cleared_reason: Mapped[str | None] = mapped_column(String(64), default=None)


class ExposureRecord(Base):
    """One critical incident a unit worked on scene (well-being spreading)."""

    __tablename__ = "exposures"

    unit_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    incident_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class NotificationRecord(Base):
    """What notify reported about each message: dispatch's read model of delivery."""

    __tablename__ = "notifications"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"), index=True)
    assignment_id: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    to_masked: Mapped[str | None] = mapped_column(String(24), default=None)
    error_code: Mapped[str | None] = mapped_column(String(16), default=None)
    error_message: Mapped[str | None] = mapped_column(Text, default=None)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ProviderRecord(Base):
    """One service of a treatment provider (HSDS: organisation, service, location, schedule,
    contact), as warm handoffs need it."""

    __tablename__ = "providers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    organization: Mapped[str] = mapped_column(String(120))
    service_type: Mapped[str] = mapped_column(String(32), index=True)
    service_name: Mapped[str] = mapped_column(String(120))
    address: Mapped[str | None] = mapped_column(Text, default=None)
    lat: Mapped[float | None] = mapped_column(Float, default=None)
    lon: Mapped[float | None] = mapped_column(Float, default=None)
    timezone: Mapped[str] = mapped_column(String(64))
    # [{"days": ["mon", ...], "opens": "08:00", "closes": "17:00"}]; empty = always open.
    schedule: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Places free now (beds, induction slots); None = not reported.
    capacity: Mapped[int | None] = mapped_column(Integer, default=None)
    contact_name: Mapped[str | None] = mapped_column(String(120), default=None)
    contact_phone: Mapped[str] = mapped_column(String(20))
    # The number the public calls (HSDS ``phones``), apart from the on-call contact
    # corespond texts, which is a corespond extension and never published.
    public_phone: Mapped[str | None] = mapped_column(String(32), default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class HandoffRecord(Base):
    """A warm handoff for an incident: which service, which provider is asked now, who declined."""

    __tablename__ = "handoffs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"), index=True)
    service_type: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    provider_id: Mapped[str | None] = mapped_column(String(64), default=None)
    organization: Mapped[str | None] = mapped_column(String(120), default=None)
    tried: Mapped[list[str]] = mapped_column(JSON, default=list)
    requested_by: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class IdempotencyRecord(Base):
    """The first answer to a creating POST sent with an ``Idempotency-Key``: a retry of the
    same request gets it again instead of creating a second incident, unit or handoff."""

    __tablename__ = "idempotency_keys"

    # sha256 of the client and its key: one client's key never answers another's
    # request (and one column, as the rotation of sealed columns needs).
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # sha256 of method, path and the parsed body: "the same request".
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    location: Mapped[str | None] = mapped_column(String(255), default=None)
    # Sealed: a unit's or provider's answer carries a phone number.
    body: Mapped[str] = mapped_column(EncryptedText)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class ReferralTaskRecord(Base):
    """One FHIR Task: a warm handoff as one provider was asked to fulfil it, or a
    post-overdose follow-up visit as the outreach team was asked to make it.

    Each provider asked gets its own Task (owner = that provider's organisation); a
    rejected or lapsed one stays, final, beside the next provider's. The ServiceRequest
    is the handoff (``handoff_id``) or the follow-up incident (``incident_id``), so it
    has no table of its own.
    """

    __tablename__ = "referral_tasks"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # "handoff" or "follow_up".
    kind: Mapped[str] = mapped_column(String(16), default="handoff")
    handoff_id: Mapped[str | None] = mapped_column(
        ForeignKey("handoffs.id"), index=True, default=None
    )
    incident_id: Mapped[str] = mapped_column(String(64), index=True)
    # The provider asked; None for a follow-up (the owner is the outreach team).
    provider_id: Mapped[str | None] = mapped_column(String(64), default=None)
    # Task.owner: the provider's organisation (its HSDS/FHIR id and its name).
    owner_id: Mapped[str] = mapped_column(String(64), index=True)
    owner_name: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(24), index=True)
    # Sealed: free text a provider typed can quote the person.
    status_reason: Mapped[str | None] = mapped_column(EncryptedText, default=None)
    authored_on: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_modified: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    # Task.meta.versionId; bumped on every change.
    version: Mapped[int] = mapped_column(Integer, default=1)
