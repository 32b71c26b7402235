"""Minimum necessary on the bus: nothing notify consumes carries the narrative or who called."""

import json

from aiokafka import AIOKafkaConsumer, TopicPartition

from schemas.envelope import CloudEvent, EventType
from schemas.events import EVENT_DATA_MODELS
from services.common.topics import ASSIGNMENTS, TOPIC_OF
from tests.support.flow import submit, until_texted
from tests.support.inprocess import DEMO_CALL, InProcessStack
from tests.support.waiting import eventually

NOTIFY_TOPICS = (ASSIGNMENTS,)  # what services/notify/main.py subscribes to
CALLER_PHONE = "+13035550177"
NAME = "Dolores Whitfield"
NARRATIVE = f"{NAME} says her son Anselm is hearing voices and pacing, no weapons, nobody hurt"
CALL = {**DEMO_CALL, "narrative": NARRATIVE, "caller": {"phone": CALLER_PHONE}}
NEVER = ("hearing voices", "Whitfield", "Dolores", "Anselm", "3035550177", "303-555-0177")
PROVIDER = {
    "organization": "Near CARES",
    "service": {"name": "Withdrawal management bed", "type": "detox"},
    "location": {"lat": 39.75, "lon": -104.99},
    "contact": {"phone": "+17205550801"},
    "capacity": 2,
}


async def _every_record(bootstrap: str, topics: tuple[str, ...]) -> list[bytes]:
    """Every record on ``topics`` from the beginning to their current end."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer.topics()  # fetch metadata, so partitions are known
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        values: list[bytes] = []
        while any([await consumer.position(tp) < end for tp, end in ends.items()]):
            batches = await consumer.getmany(*partitions, timeout_ms=500)
            values += [
                record.value for records in batches.values() for record in records if record.value
            ]
        return values
    finally:
        await consumer.stop()


def test_no_event_notify_consumes_has_a_field_for_the_caller_or_their_words() -> None:
    personal = {"narrative", "caller", "answers", "decision", "rationale", "evidence"}
    for event_type, topic in TOPIC_OF.items():
        if topic in NOTIFY_TOPICS:
            fields = set(EVENT_DATA_MODELS[event_type].model_fields)
            assert not fields & personal, f"{event_type} carries {fields & personal}"


async def test_a_call_from_intake_to_close_sends_notify_nothing_about_the_caller(
    sqlite_stack: InProcessStack,
) -> None:
    stack = sqlite_stack
    added = await stack.dispatch.post("/v1/providers", json=PROVIDER)
    assert added.status_code == 201, added.text
    incident_id = await submit(stack.dispatch, CALL)
    await until_texted(stack.dispatch, incident_id)
    asked = await stack.dispatch.post(
        f"/v1/incidents/{incident_id}/handoffs", json={"service": "detox"}
    )
    assert asked.status_code in (200, 201), asked.text
    closed = await stack.dispatch.post(
        f"/v1/incidents/{incident_id}/close",
        json={"disposition": "referred", "note": f"{NAME} accepted the referral"},
    )
    assert closed.status_code == 200, closed.text

    wanted = {
        EventType.ASSIGNMENT_OFFERED,
        EventType.ASSIGNMENT_ENDED,
        EventType.HANDOFF_OFFERED,
    }

    async def all_published() -> list[CloudEvent] | None:
        events = [
            CloudEvent.model_validate_json(value)
            for value in await _every_record(stack.bootstrap, NOTIFY_TOPICS)
        ]
        return events if wanted <= {e.type for e in events} else None

    events = await eventually(all_published, what="offer, handoff and end on the bus")
    for event in events:
        text = json.dumps(event.model_dump(mode="json"))
        for word in NEVER:
            assert word not in text, f"{event.type} carries {word!r}"
    offered = [e for e in events if e.type == EventType.ASSIGNMENT_OFFERED]
    assert offered[0].data["address"] == "1437 Bannock St"  # what a responder does need
