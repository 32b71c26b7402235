"""Dead letters: list what consumers gave up on, and put (possibly fixed) messages back.

Replaying is always safe: a message that was in fact processed before is
stopped by the consumer's inbox.
"""

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from services.common.bus import new_producer
from services.common.settings import ServiceSettings
from services.common.topics import DLQ_PREFIX


@dataclass(frozen=True)
class DeadLetter:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...]

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value.decode(errors="replace")
        return None

    def summary(self) -> dict[str, Any]:
        return {
            "dlq_topic": self.topic,
            "partition": self.partition,
            "offset": self.offset,
            "key": self.key.decode(errors="replace") if self.key else None,
            "reason": self.header("dlq.reason"),
            "source_topic": self.header("dlq.source.topic"),
            "source_partition": self.header("dlq.source.partition"),
            "source_offset": self.header("dlq.source.offset"),
            "consumer_group": self.header("dlq.consumer.group"),
            "failed_at": self.header("dlq.failed_at"),
            "event_type": self.header("ce_type"),
            "event_id": self.header("ce_id"),
            "value": self.value.decode(errors="replace"),
        }


async def dead_letter_topics(settings: ServiceSettings) -> list[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        return sorted(t for t in await admin.list_topics() if t.startswith(DLQ_PREFIX))
    finally:
        await admin.close()


async def read_dead_letters(
    settings: ServiceSettings, topics: list[str], timeout_s: float = 15.0
) -> list[DeadLetter]:
    """Every message currently in ``topics``, read without joining a group."""
    if not topics:
        return []
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers, enable_auto_commit=False
    )
    await consumer.start()
    try:
        await consumer.topics()  # refreshes metadata, so partitions are known
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        if not partitions:
            return []
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        letters: list[DeadLetter] = []
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and await _behind(consumer, partitions, ends):
            for tp, records in (await consumer.getmany(timeout_ms=500)).items():
                letters.extend(
                    DeadLetter(
                        r.topic,
                        r.partition,
                        r.offset,
                        r.key,
                        r.value or b"",
                        tuple(r.headers or ()),
                    )
                    for r in records
                    if r.offset < ends[tp]
                )
        return sorted(letters, key=lambda d: (d.topic, d.partition, d.offset))
    finally:
        await consumer.stop()


async def _behind(
    consumer: AIOKafkaConsumer, partitions: list[TopicPartition], ends: dict[TopicPartition, int]
) -> bool:
    for tp in partitions:
        if await consumer.position(tp) < ends[tp]:
            return True
    return False


async def replay(settings: ServiceSettings, letter: DeadLetter, value: bytes | None = None) -> str:
    """Publish the message (or a fixed ``value``) back to the topic it came from."""
    source = letter.header("dlq.source.topic")
    if not source:
        raise ValueError(f"{letter.topic}@{letter.offset} has no dlq.source.topic header")
    headers = [(k, v) for k, v in letter.headers if not k.startswith("dlq.")]
    # One message at a time: idempotence adds nothing here, and leaving it off
    # lets the command work against the embedded broker without extra settings.
    producer = new_producer(settings.model_copy(update={"kafka_enable_idempotence": False}))
    await producer.start()
    try:
        await asyncio.wait_for(
            producer.send_and_wait(
                source,
                value=value if value is not None else letter.value,
                key=letter.key,
                headers=headers,
            ),
            settings.kafka_send_timeout_s,
        )
    finally:
        await producer.stop()
    return source
