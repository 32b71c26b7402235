"""Talking to the broker directly: publishing raw records, as a misbehaving producer would."""

import json
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer

from schemas.calls import Answers
from schemas.envelope import CloudEvent, EventType
from schemas.events import CallReceived
from services.common.clock import new_id


async def publish(
    bootstrap: str,
    topic: str,
    value: bytes,
    key: bytes | None = None,
    headers: list[tuple[str, bytes]] | None = None,
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, value=value, key=key, headers=headers or [])
    finally:
        await producer.stop()


def call_received_record(n: int) -> bytes:
    """A valid ``call.received`` event (id ``event-<n>``, incident ``incident-<n>``), as bytes."""
    data = CallReceived(
        incident_id=f"incident-{n}",
        incident_code="1000",
        received_at=datetime.now(UTC),
        narrative="welfare check",
        answers=Answers(),
        source="911",
        jurisdiction="default",
    )
    return (
        CloudEvent(
            id=f"event-{n}",
            source="test",
            type=EventType.CALL_RECEIVED,
            time=datetime.now(UTC),
            subject=data.incident_id,
            correlationid="c",
            data=data.model_dump(mode="json"),
        )
        .model_dump_json()
        .encode()
    )


def orphan_triaged_record() -> bytes:
    """A valid ``call.triaged`` for an incident dispatch never heard of: its handler fails
    every time, so it is retried and then dead-lettered."""
    now = datetime.now(UTC).isoformat()
    event = {
        "id": new_id(),
        "source": "corespond/triage",
        "type": EventType.CALL_TRIAGED,
        "time": now,
        "subject": "no-such-incident",
        "correlationid": new_id(),
        "data": {
            "incident_id": "no-such-incident",
            "decided_at": now,
            "decision": {
                "category": "welfare",
                "priority": 3,
                "response_model": "clinician",
                "roles": ["clinician"],
                "flags": [],
                "rationale": [],
                "policy_version": "default-0.1",
            },
        },
    }
    return json.dumps(event).encode()
