"""The CloudEvents 1.0 envelope every event on the bus travels in.

Attributes follow the CloudEvents spec (JSON format, structured mode) plus two
extensions: ``correlationid`` (the request or call that started a chain) and
``traceparent`` (W3C trace context). ``subject`` is the incident id, which is
also the Kafka key, so every event of one incident is ordered.
"""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints


class EventType:
    """Versioned event type names. Breaking a payload means a new ``.vN``."""

    CALL_RECEIVED = "corespond.call.received.v1"
    CALL_TRIAGED = "corespond.call.triaged.v1"
    ASSIGNMENT_OFFERED = "corespond.assignment.offered.v1"
    ASSIGNMENT_ENDED = "corespond.assignment.ended.v1"
    NOTIFICATION_STATUS = "corespond.notification.status.v1"
    RESPONDER_REPLIED = "corespond.responder.replied.v1"
    TELEHEALTH_JOINED = "corespond.telehealth.joined.v1"
    FOLLOW_UP_DUE = "corespond.followup.due.v1"
    HANDOFF_OFFERED = "corespond.handoff.offered.v1"
    HANDOFF_REPLIED = "corespond.handoff.replied.v1"
    ALERT_RAISED = "corespond.alert.raised.v1"
    SUBJECT_REVOKED = "corespond.subject.revoked.v1"
    AUDIT_RECORDED = "corespond.audit.recorded.v1"


class CloudEvent(BaseModel):
    """A structured-mode CloudEvent with corespond's two extension attributes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    specversion: Literal["1.0"] = "1.0"
    id: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    source: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    type: Annotated[str, StringConstraints(pattern=r"^corespond\.[a-z_.]+\.v\d+$")]
    time: datetime
    subject: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    datacontenttype: Literal["application/json"] = "application/json"
    correlationid: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    traceparent: (
        Annotated[
            str, StringConstraints(pattern=r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")
        ]
        | None
    ) = None
    data: dict[str, Any] = Field(default_factory=dict)
