"""A consumer whose broker lost its state (log, offsets, group) re-reads instead of skipping.

The embedded broker keeps everything in memory: after a restart a topic starts
again at offset 0 while a running consumer still holds its old position. If
records reach the new log before that consumer fetches again, the old position
would silently skip the first of them. The consumer must notice that the
broker no longer has the offsets it committed and re-read from the start.
"""

import asyncio
from pathlib import Path

from aiokafka import TopicPartition

from schemas.envelope import CloudEvent, EventType
from services.cli.stack import EMBEDDED_BROKER_ENV, Tansu
from services.common.bus import ensure_topics
from services.common.consumer import Subscription
from services.common.outbox import UnitOfWork
from services.common.runtime import ServiceRuntime
from services.common.settings import ServiceSettings
from services.common.topics import CALLS
from tests.support.inprocess import DATA_KEYS
from tests.support.kafka import call_received_record, publish
from tests.support.waiting import eventually


async def test_records_of_a_recreated_log_are_not_skipped(tmp_path: Path) -> None:
    tansu = Tansu()
    tansu.start()
    handled: list[str] = []

    async def record(_uow: UnitOfWork, event: CloudEvent, _data: object) -> None:
        handled.append(event.id)

    settings = ServiceSettings(
        # A runtime's tables come from its service's migrations: triage's will do.
        service_name="triage",
        kafka_bootstrap_servers=tansu.bootstrap,
        kafka_topic_partitions=1,
        kafka_enable_idempotence=False,
        kafka_session_timeout_ms=int(EMBEDDED_BROKER_ENV["CORESPOND_KAFKA_SESSION_TIMEOUT_MS"]),
        # A heartbeat would also notice the forgotten group (and reset positions
        # by re-joining); spacing heartbeats out lets the fetch come first, as it
        # did in the failure this test was written from.
        kafka_heartbeat_interval_ms=2_500,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'probe.db'}",
        data_dir=tmp_path,
        data_keys=DATA_KEYS,
    )
    runtime = ServiceRuntime(
        settings, [], Subscription("probe", [CALLS], {EventType.CALL_RECEIVED: record})
    )
    consumer = runtime.consumer
    assert consumer is not None
    await runtime.start()
    try:
        await runtime.bus.ready.wait()  # topics exist, with one partition
        await publish(tansu.bootstrap, CALLS, call_received_record(1), key=b"incident-1")
        await eventually(lambda: handled == ["event-1"], what="the first event")

        # Hold the consumer still across the restart, so the new log fills up
        # before it fetches again: the dangerous ordering, made certain.
        live = consumer.kafka_consumer
        assert live is not None
        partition = TopicPartition(CALLS, 0)
        live.pause(partition)
        tansu.stop()
        tansu.start()
        await ensure_topics(settings, [CALLS])
        await publish(tansu.bootstrap, CALLS, call_received_record(2), key=b"incident-2")
        await publish(tansu.bootstrap, CALLS, call_received_record(3), key=b"incident-3")
        live.resume(partition)

        await eventually(
            lambda: {"event-2", "event-3"} <= set(handled),
            timeout_s=30,
            what="both events of the re-created log",
        )
        await asyncio.sleep(0.5)
        assert handled.count("event-2") == 1
        assert handled.count("event-3") == 1
        # However the loss showed itself first (a fetch at the stale position, a
        # heartbeat-driven re-join, a refused offset commit), the consumer was
        # rebuilt from the broker's view rather than carrying on with its own.
        assert consumer.restarts >= 1
    finally:
        await runtime.stop()
        tansu.stop()
