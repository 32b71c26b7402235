"""The one shared contract of corespond: versioned event and public API models.

Every service speaks only these types on the bus and at its public API. A
breaking change to any of them means a new versioned type (``...v2``), never
an edit of an old one; the checked-in JSON Schema files under
``schemas/jsonschema/`` are regenerated with ``make schemas`` and a test fails
when they are stale.
"""

from schemas.api import CallAccepted, IncidentView, Problem, ProblemField
from schemas.calls import Answers, Caller, CallIntake, CallSubmission, Location
from schemas.envelope import CloudEvent, EventType
from schemas.events import (
    AssignmentOffered,
    CallReceived,
    CallTriaged,
    NotificationStatusChanged,
)
from schemas.triage import RationaleItem, TriageDecision
from schemas.vocabulary import (
    CallSource,
    Flag,
    NotificationStatus,
    ResponseModel,
    Role,
)

__all__ = [
    "Answers",
    "AssignmentOffered",
    "CallAccepted",
    "CallIntake",
    "CallReceived",
    "CallSource",
    "CallSubmission",
    "CallTriaged",
    "Caller",
    "CloudEvent",
    "EventType",
    "Flag",
    "IncidentView",
    "Location",
    "NotificationStatus",
    "NotificationStatusChanged",
    "Problem",
    "ProblemField",
    "RationaleItem",
    "ResponseModel",
    "Role",
    "TriageDecision",
]
