"""Talking to the broker directly: publishing raw records, as a misbehaving producer would."""

from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer

from schemas.calls import Answers
from schemas.envelope import CloudEvent, EventType
from schemas.events import CallReceived


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
