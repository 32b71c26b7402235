"""Topic layout: which event type travels on which topic, and each consumer's dead-letter topic.

Every event is keyed by its incident id, so one incident's events stay in order
within a partition.
"""

from schemas.envelope import EventType

CALLS = "corespond.calls"
TRIAGE = "corespond.triage"
ASSIGNMENTS = "corespond.assignments"
NOTIFICATIONS = "corespond.notifications"
# Revocations: every service consumes them, each in its own consumer group.
IDENTITY = "corespond.identity"
# Audit records from every service to dispatch's hash-chained trail. All carry one
# key, so they share a partition and reach the chain in the order they were sent.
AUDIT = "corespond.audit"
AUDIT_KEY = "audit"

ALL = (CALLS, TRIAGE, ASSIGNMENTS, NOTIFICATIONS, IDENTITY, AUDIT)

TOPIC_OF: dict[str, str] = {
    EventType.CALL_RECEIVED: CALLS,
    EventType.CALL_TRIAGED: TRIAGE,
    EventType.ASSIGNMENT_OFFERED: ASSIGNMENTS,
    EventType.ASSIGNMENT_ENDED: ASSIGNMENTS,
    # Also dispatch → notify, for the outreach team.
    EventType.FOLLOW_UP_DUE: ASSIGNMENTS,
    EventType.HANDOFF_OFFERED: ASSIGNMENTS,
    EventType.ALERT_RAISED: ASSIGNMENTS,
    EventType.SUBJECT_REVOKED: IDENTITY,
    EventType.AUDIT_RECORDED: AUDIT,
    EventType.HANDOFF_REPLIED: NOTIFICATIONS,
    EventType.NOTIFICATION_STATUS: NOTIFICATIONS,
    # Replies travel with the delivery news: both are notify → dispatch, per incident.
    EventType.RESPONDER_REPLIED: NOTIFICATIONS,
    EventType.TELEHEALTH_JOINED: NOTIFICATIONS,
}

DLQ_PREFIX = "corespond.dlq."


def dead_letter_topic(consumer_group: str) -> str:
    return DLQ_PREFIX + consumer_group
