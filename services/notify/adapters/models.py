"""notify's tables: each logical message with its delivery state; the console backend's sent box.

Nothing here is encrypted at rest, on purpose. notify never receives a caller's
phone, name or narrative (events carry only what it needs), and the phone
numbers it keeps are responders' and providers' staff numbers: lookup keys an
inbound SMS is matched on (``to_phone``, ``contacts.phone``), which sealed
values could not be. Its outbox, shared with the other services, is sealed.
"""

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Float, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class MessageRecord(Base):
    __tablename__ = "messages"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # One logical message per purpose ("offer:<assignment id>"): a second event
    # asking for the same message finds it here and sends nothing.
    dedupe_key: Mapped[str] = mapped_column(String(160), unique=True)
    incident_id: Mapped[str] = mapped_column(String(64), index=True)
    assignment_id: Mapped[str | None] = mapped_column(String(64), default=None)
    # A warm-handoff request to a provider (instead of an offer to a unit).
    handoff_id: Mapped[str | None] = mapped_column(String(64), default=None)
    # What a reply "Y 4821" is matched against: the code, and until when the offer stands.
    incident_code: Mapped[str | None] = mapped_column(String(12), default=None)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    # The last answer relayed for this offer (accept/decline/arrived/done).
    answer: Mapped[str | None] = mapped_column(String(16), default=None)
    to_phone: Mapped[str] = mapped_column(String(20), index=True)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True)
    provider_message_id: Mapped[str | None] = mapped_column(String(64), default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    error_code: Mapped[str | None] = mapped_column(String(16), default=None)
    error_message: Mapped[str | None] = mapped_column(Text, default=None)
    correlation_id: Mapped[str] = mapped_column(String(128))
    traceparent: Mapped[str | None] = mapped_column(String(64), default=None)
    # The event that asked for this message: every status of it answers that event,
    # so when it is sent again (reconciliation) they all go again (outbox cause_id).
    cause_event_id: Mapped[str | None] = mapped_column(String(128), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ConsoleSms(Base):
    """What the console backend 'sent': stored here and logged, nothing leaves the machine."""

    __tablename__ = "console_sms"

    sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    to_phone: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ContactRecord(Base):
    """A phone number's messaging consent: STOP opts out, START opts back in."""

    __tablename__ = "contacts"

    phone: Mapped[str] = mapped_column(String(20), primary_key=True)
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class InboundRecord(Base):
    """Each inbound SMS once: a retried webhook with the same provider id changes nothing."""

    __tablename__ = "inbound"

    provider_message_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    from_phone: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    answer_text: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ResponderLink(Base):
    """The secure link in an offer SMS: ``/r/{token}`` opens that one assignment's page.

    The token is the credential (unguessable, expiring, tied to the number the
    offer went to) and reaches nothing but this assignment. What the page shows
    is copied here from the offer, so it needs nothing else to render.
    """

    __tablename__ = "responder_links"

    assignment_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    incident_id: Mapped[str] = mapped_column(String(64), index=True)
    incident_code: Mapped[str] = mapped_column(String(12))
    call_sign: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(16))
    priority: Mapped[int] = mapped_column(Integer)
    address: Mapped[str | None] = mapped_column(Text, default=None)
    lat: Mapped[float | None] = mapped_column(Float, default=None)
    lon: Mapped[float | None] = mapped_column(Float, default=None)
    phone: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class WebhookReceipt(Base):
    """A Twilio webhook retry (same ``I-Twilio-Idempotency-Token``) gets the first answer back."""

    __tablename__ = "webhook_receipts"

    token: Mapped[str] = mapped_column(String(128), primary_key=True)
    path: Mapped[str] = mapped_column(String(64))
    response_body: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class TelehealthSession(Base):
    """One assignment's way into its incident's video room, reached only through an expiring link.

    The telehealth clinician and the unit on scene each have a row (their own token) for
    the same room, so they meet there.
    """

    __tablename__ = "telehealth_sessions"

    assignment_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    incident_id: Mapped[str] = mapped_column(String(64), index=True)
    # ``telehealth`` (the video clinician) or the on-scene role holding the tablet; only
    # the clinician's join is news for dispatch ("clinician joined").
    role: Mapped[str] = mapped_column(String(16), server_default="telehealth")
    room_url: Mapped[str] = mapped_column(Text)
    # The secret in /t/{token}: the same as the assignment's /r/{token} page link.
    token: Mapped[str] = mapped_column(String(64), unique=True)
    phone: Mapped[str] = mapped_column(String(20))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    joined_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
