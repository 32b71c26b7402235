"""Kafka client settings and lifecycle (aiokafka), the only module that builds Kafka clients.

Producer: ``acks=all``, idempotence from settings, every send bounded by a
timeout. Consumer: manual commits (after the DB commit), ``earliest`` for a new
group, and fetch settings tuned for latency over batch size — a crisis call is
one small message, not a stream to compress.
"""

import asyncio
import functools
import logging
from typing import Any

import aiokafka.client as aiokafka_client
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError, UnknownError

from services.common.retry import Backoff
from services.common.settings import ServiceSettings
from services.common.topics import spec_of
from services.common.waits import wait_any

log = logging.getLogger(__name__)


def _never_auto_create_topics() -> None:
    """Make every Kafka client of this process ask for metadata without creating topics.

    aiokafka's metadata requests let the broker auto-create any topic they name,
    with the broker's defaults. A broker that restarts empty then re-creates our
    topics on the first produce or fetch, with its default partition count (Tansu:
    4, not our 6) and retention, before ``ensure_topics`` can make them as
    ``LAYOUT`` says. With auto-creation refused, a missing topic fails the send,
    and the relay's repair (``Bus.ensure_topics``) creates it properly first.
    aiokafka has no option for this, so its request class is bound to say no.
    """
    if isinstance(aiokafka_client.MetadataRequest, functools.partial):
        return
    aiokafka_client.MetadataRequest = functools.partial(
        aiokafka_client.MetadataRequest, allow_auto_topic_creation=False
    )


_never_auto_create_topics()


def producer_config(settings: ServiceSettings) -> dict[str, Any]:
    return {
        "bootstrap_servers": settings.kafka_bootstrap_servers,
        "client_id": f"corespond-{settings.service_name}",
        "acks": "all",
        "enable_idempotence": settings.kafka_enable_idempotence,
        "request_timeout_ms": int(settings.kafka_send_timeout_s * 1000),
        "linger_ms": 0,
        "security_protocol": settings.kafka_security_protocol,
    }


def consumer_config(settings: ServiceSettings, group_id: str) -> dict[str, Any]:
    return {
        "bootstrap_servers": settings.kafka_bootstrap_servers,
        "client_id": f"corespond-{settings.service_name}",
        "group_id": group_id,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "fetch_max_wait_ms": 10,
        "fetch_min_bytes": 1,
        "max_poll_records": 200,
        "session_timeout_ms": settings.kafka_session_timeout_ms,
        "heartbeat_interval_ms": settings.kafka_heartbeat_interval_ms,
        "metadata_max_age_ms": 5_000,
        "security_protocol": settings.kafka_security_protocol,
    }


def new_producer(settings: ServiceSettings) -> AIOKafkaProducer:
    return AIOKafkaProducer(**producer_config(settings))


def new_consumer(settings: ServiceSettings, group_id: str, topics: list[str]) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(*topics, **consumer_config(settings, group_id))


def new_topic(settings: ServiceSettings, name: str) -> NewTopic:
    """``name`` as the layout (services/common/topics.py) and the settings define it."""
    try:
        configs = spec_of(name).configs(settings.kafka_replication_factor)
    except KeyError:
        configs = {}  # not a corespond topic (a bench's or a test's): broker defaults
    return NewTopic(
        name=name,
        num_partitions=settings.kafka_topic_partitions,
        replication_factor=settings.kafka_replication_factor,
        topic_configs=configs,
    )


def new_admin(settings: ServiceSettings) -> AIOKafkaAdminClient:
    return AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id=f"corespond-{settings.service_name}-admin",
        request_timeout_ms=int(settings.kafka_send_timeout_s * 1000),
        security_protocol=settings.kafka_security_protocol,
    )


async def ensure_topics(settings: ServiceSettings, names: list[str]) -> None:
    """Create the topics that do not exist yet, as ``new_topic`` defines them."""
    admin = new_admin(settings)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [n for n in names if n not in existing]
        if not missing:
            return
        try:
            await admin.create_topics([new_topic(settings, name) for name in missing])
        except TopicAlreadyExistsError:
            pass  # another service created it between our list and create
        log.info("bus.topics_created", extra={"topics": missing})
    finally:
        await admin.close()


class Bus:
    """One producer per service process, started in the background so the HTTP side
    (and the outbox) keeps accepting work while the broker is unreachable."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self.producer: AIOKafkaProducer | None = None
        self.ready = asyncio.Event()
        self.topics: list[str] = []

    async def connect(self, topics: list[str], stopping: asyncio.Event) -> None:
        """Retry until the broker answers: create topics, start the producer."""
        self.topics = topics
        backoff = Backoff(first_s=0.2, cap_s=5.0)
        while not stopping.is_set():
            producer = new_producer(self.settings)
            try:
                await ensure_topics(self.settings, topics)
                await producer.start()
            except Exception as exc:
                await producer.stop()
                extra = {"bootstrap": self.settings.kafka_bootstrap_servers, "error": repr(exc)}
                if isinstance(exc, UnknownError) and self.settings.kafka_enable_idempotence:
                    extra["hint"] = (
                        "the broker refused an idempotent producer (InitProducerId); for "
                        "brokers such as Tansu set CORESPOND_KAFKA_ENABLE_IDEMPOTENCE=false"
                    )
                log.warning("bus.unreachable", extra=extra)
                await wait_any(stopping, timeout_s=backoff.next_delay())
                continue
            self.producer = producer
            self.ready.set()
            log.info("bus.connected", extra={"bootstrap": self.settings.kafka_bootstrap_servers})
            return

    async def ensure_topics(self) -> None:
        """Create any of our topics that went missing (an empty broker came back)."""
        await ensure_topics(self.settings, self.topics)

    async def send_and_wait(
        self, topic: str, value: bytes, key: bytes | None, headers: list[tuple[str, bytes]]
    ) -> None:
        if self.producer is None:
            raise RuntimeError("producer not connected")
        await asyncio.wait_for(
            self.producer.send_and_wait(topic, value=value, key=key, headers=headers),
            self.settings.kafka_send_timeout_s,
        )

    async def close(self) -> None:
        if self.producer is not None:
            await self.producer.stop()
            self.producer = None
        self.ready.clear()
