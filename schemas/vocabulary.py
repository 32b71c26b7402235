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
    # Recommended, waiting for a dispatcher to confirm or override.
    AWAITING_DISPATCH = "awaiting_dispatch"
    DISPATCHED = "dispatched"
    # A required role has nobody: supervisors have been alerted.
    UNASSIGNED = "unassigned"
    CLOSED = "closed"


class UnitStatus(StrEnum):
    """What a unit reports about itself. Whether it is committed to an incident
    is a separate fact (its current assignment), so no report can free a booked unit."""

    AVAILABLE = "available"
    EN_ROUTE = "en_route"
    ON_SCENE = "on_scene"
    TRANSPORTING = "transporting"
    OUT_OF_SERVICE = "out_of_service"
    OFF_DUTY = "off_duty"


class Capability(StrEnum):
    NALOXONE = "naloxone"
    TELEHEALTH_TABLET = "telehealth_tablet"
    CIT_TRAINED = "cit_trained"
    PEER_RECOVERY_COACH = "peer_recovery_coach"
    ALS = "als"  # advanced life support (paramedic)


class Disposition(StrEnum):
    """How an incident ended: the figures a deflection program reports on."""

    DEFLECTED_TO_TREATMENT = "deflected_to_treatment"
    WARM_HANDOFF_COMPLETED = "warm_handoff_completed"
    TRANSPORTED = "transported"
    TREATED_ON_SCENE = "treated_on_scene"
    REFUSED_SERVICES = "refused_services"
    ARREST = "arrest"
    REFERRED = "referred"
    NO_CONTACT = "no_contact"
    CANCELLED = "cancelled"


class FollowUpOutcome(StrEnum):
    """What the post-overdose outreach visit (or the attempt at one) came to, recorded at close."""

    ENGAGED = "engaged"  # the person was reached and accepted services
    REACHED_DECLINED = "reached_declined"  # reached, declined services
    NOT_REACHED = "not_reached"  # the team went; nobody found
    NOT_NEEDED = "not_needed"  # already in treatment, moved away, deceased...


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

    @property
    def rank(self) -> int:
        """How far along: queued 0, sent 1, any final state 2. A report of a lower rank
        never overwrites a higher one (callbacks and relays arrive out of order)."""
        return _NOTIFICATION_RANK[self]

    @property
    def final(self) -> bool:
        return self.rank == _FINAL_RANK


_FINAL_RANK = 2
_NOTIFICATION_RANK = {
    NotificationStatus.QUEUED: 0,
    NotificationStatus.SENT: 1,
    NotificationStatus.DELIVERED: _FINAL_RANK,
    NotificationStatus.UNDELIVERED: _FINAL_RANK,
    NotificationStatus.FAILED: _FINAL_RANK,
    NotificationStatus.SKIPPED: _FINAL_RANK,
}


class ReplyAnswer(StrEnum):
    """What a responder's SMS reply means for their assignment."""

    ACCEPT = "accept"
    DECLINE = "decline"
    ARRIVED = "arrived"
    DONE = "done"


class AlertKind(StrEnum):
    """Why supervisors are alerted."""

    ROLE_UNFILLED = "role_unfilled"  # every candidate was asked; nobody accepted
    # A priority-1 offer expired: the dispatcher hears at once, while the next unit is asked.
    OFFER_UNANSWERED = "offer_unanswered"
    HANDOFF_UNPLACED = "handoff_unplaced"  # no provider can take a warm handoff
    WELLBEING = "wellbeing"  # a unit passed the critical-incident exposure threshold
    # Triage or notify never answered, however often reconciliation asked again.
    WORK_STUCK = "work_stuck"
    # More suspected overdoses in one area within 24 h than its threshold (issue 21).
    SPIKE = "spike"


class ReplyChannel(StrEnum):
    """How a responder answered: an SMS reply, or a button on their secure-link page."""

    SMS = "sms"
    LINK = "link"


class HandoffService(StrEnum):
    """What a warm handoff asks a treatment provider for."""

    MAT_INDUCTION = "mat_induction"  # MAT / buprenorphine induction
    DETOX = "detox"
    CRISIS_STABILISATION = "crisis_stabilisation"
    SHELTER_BED = "shelter_bed"
    HARM_REDUCTION = "harm_reduction"
    FAMILY_SUPPORT = "family_support"


class HandoffStatus(StrEnum):
    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    # Every suitable provider declined or did not answer: supervisors are alerted.
    UNPLACED = "unplaced"
