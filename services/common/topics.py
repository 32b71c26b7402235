"""Topic layout: which event type travels on which topic, each consumer's dead-letter
topic, and every topic's retention (``LAYOUT``).

Every event is keyed by its incident id, so one incident's events stay in order
within a partition. Partitions and replication come from the settings
(``kafka_topic_partitions``, ``kafka_replication_factor``); ``LAYOUT`` is the one
place topic configs are defined: the services (on connect), ``corespond topics
create`` and deploy/README.md all read it.
"""

from dataclasses import dataclass

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


# The consumer groups, one per service; replicas of a service share its group, so
# Kafka spreads the partitions over them. Each group has its own dead-letter topic.
CONSUMER_GROUPS = ("triage", "dispatch", "notify")

DAY_MS = 24 * 60 * 60 * 1000


@dataclass(frozen=True)
class TopicSpec:
    """How long a topic keeps its messages, and why (deploy/README.md prints ``reason``)."""

    name: str
    retention_days: int
    reason: str

    @property
    def retention_ms(self) -> int:
        return self.retention_days * DAY_MS

    def configs(self, replication_factor: int) -> dict[str, str]:
        """Topic-level configs given to the broker when the topic is created."""
        configs = {"retention.ms": str(self.retention_ms), "cleanup.policy": "delete"}
        if replication_factor >= 3:
            # Producers send with acks=all: with 2 in-sync replicas required, an
            # acknowledged event survives losing a broker, and one broker can still
            # be down for maintenance without stopping writes.
            configs["min.insync.replicas"] = "2"
        return configs


# corespond does not encrypt what is on the bus (README "Minimum necessary on the
# bus"), so a topic keeps messages only as long as a consumer could need them again:
# long enough to ride out an outage and to replay, no longer.
_SENSITIVE = (
    "carries the call narrative and triage evidence: short, and still enough for a "
    "consumer down over a weekend to catch up"
)
_WORK = (
    "only what its consumer needs (no narrative): a week covers an outage and a replay after a fix"
)
LAYOUT: dict[str, TopicSpec] = {
    spec.name: spec
    for spec in (
        TopicSpec(CALLS, 3, _SENSITIVE),
        TopicSpec(TRIAGE, 3, _SENSITIVE),
        TopicSpec(ASSIGNMENTS, 7, _WORK),
        TopicSpec(NOTIFICATIONS, 7, _WORK),
        TopicSpec(
            IDENTITY,
            7,
            "revocations matter only while a revoked token or session could be used; "
            "each service keeps the list in its own database",
        ),
        TopicSpec(
            AUDIT,
            30,
            "dispatch's hash-chained trail is the record; the topic holds audit records "
            "until dispatch appends them, with a wide margin so none is lost to an outage",
        ),
    )
}
DLQ_RETENTION_DAYS = 14
DLQ_REASON = (
    "failed messages are kept whole (narrative included): two weeks to read, fix and "
    "replay them with `corespond dlq`, then gone"
)


def spec_of(topic: str) -> TopicSpec:
    """The layout of ``topic``: an event topic from ``LAYOUT`` or a dead-letter topic."""
    if topic in LAYOUT:
        return LAYOUT[topic]
    if topic.startswith(DLQ_PREFIX):
        return TopicSpec(topic, DLQ_RETENTION_DAYS, DLQ_REASON)
    raise KeyError(f"{topic!r} is not a corespond topic (services/common/topics.py)")


def every_topic() -> list[TopicSpec]:
    """Every topic a deployment needs: the event topics, then each group's dead letters."""
    return [LAYOUT[name] for name in ALL] + [
        spec_of(dead_letter_topic(group)) for group in CONSUMER_GROUPS
    ]
