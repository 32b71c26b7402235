"""The field's public vocabulary (DOMAIN.md): roles, response models, flags, statuses."""

from enum import StrEnum


class Role(StrEnum):
    """What a unit can fill and what a dispatcher must send."""

    POLICE = "police"
    CLINICIAN = "clinician"
    EMT = "emt"
    TELEHEALTH = "telehealth"


class ResponseModel(StrEnum):
    POLICE = "police"
    CO_RESPONDER = "co_responder"
    CLINICIAN = "clinician"
    FIREHOUSE = "firehouse"
    TELEHEALTH = "telehealth"


class Flag(StrEnum):
    WEAPONS = "weapons"
    VIOLENCE = "violence"
    CHILDREN_PRESENT = "children_present"
    NALOXONE = "naloxone"
    SUICIDE_RISK = "suicide_risk"
    OVERDOSE = "overdose"
    SUBSTANCE_USE = "substance_use"
    MEDICAL = "medical"


class Category(StrEnum):
    OVERDOSE = "overdose"
    MENTAL_HEALTH = "mental_health"
    SUBSTANCE_USE = "substance_use"
    SUICIDE_RISK = "suicide_risk"
    VIOLENCE = "violence"
    MEDICAL = "medical"
    WELFARE = "welfare"


class CallSource(StrEnum):
    NINE_ONE_ONE = "911"
    NINE_EIGHT_EIGHT = "988"
    NON_EMERGENCY = "non_emergency"
    CAD = "cad"
    FOLLOW_UP = "follow_up"


class IncidentStatus(StrEnum):
    RECEIVED = "received"
    TRIAGED = "triaged"
    DISPATCHED = "dispatched"
    UNASSIGNED = "unassigned"
    CLOSED = "closed"


class AssignmentStatus(StrEnum):
    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    EN_ROUTE = "en_route"
    ON_SCENE = "on_scene"
    CLEARED = "cleared"
    CANCELLED = "cancelled"


class NotificationStatus(StrEnum):
    """Delivery states, named as Twilio names them where they overlap."""

    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    SKIPPED = "skipped"
