"""A transaction refused over lock contention is retried, never dead-lettered.

Replicas of a service apply different incidents' events at the same time and
can collide on shared rows (two dispatch replicas booking units): PostgreSQL
then aborts one transaction with "deadlock detected" or a serialization
failure. The event itself is good, so it must not go to the dead-letter topic
however often that happens; it is applied once the contention passes.

The handler raises PostgreSQL's real error (SQLSTATE 40P01, from the server)
for its first attempts, one more than the consumer's retry budget.
"""

from pathlib import Path

import pytest
from sqlalchemy import text

from schemas.envelope import CloudEvent, EventType
from services.cli.stack import EMBEDDED_BROKER_ENV, Tansu
from services.common.consumer import Subscription
from services.common.outbox import UnitOfWork
from services.common.runtime import ServiceRuntime
from services.common.settings import ServiceSettings
from services.common.topics import CALLS
from tests.support.databases import (
    POSTGRES_URL,
    DatabaseTarget,
)
from tests.support.inprocess import DATA_KEYS
from tests.support.kafka import call_received_record, publish
from tests.support.waiting import eventually

pytestmark = pytest.mark.postgres

MAX_ATTEMPTS = 2
DEADLOCKS = MAX_ATTEMPTS + 1  # outlasts the retry budget

RAISE_DEADLOCK = text(
    "DO $$ BEGIN RAISE EXCEPTION 'deadlock detected (test)' "
    "USING ERRCODE = 'deadlock_detected'; END $$"
)


async def test_deadlocked_handler_is_retried_until_it_applies(
    broker: Tansu, postgres_db: DatabaseTarget, tmp_path: Path
) -> None:
    attempts: list[str] = []
    applied: list[str] = []

    async def collide_then_apply(uow: UnitOfWork, event: CloudEvent, _data: object) -> None:
        attempts.append(event.id)
        if len(attempts) <= DEADLOCKS:
            await uow.session.execute(RAISE_DEADLOCK)
        applied.append(event.id)

    settings = ServiceSettings(
        service_name="triage",
        kafka_bootstrap_servers=broker.bootstrap,
        kafka_topic_partitions=1,
        kafka_enable_idempotence=False,
        kafka_session_timeout_ms=int(EMBEDDED_BROKER_ENV["CORESPOND_KAFKA_SESSION_TIMEOUT_MS"]),
        consumer_max_attempts=MAX_ATTEMPTS,
        consumer_retry_backoff_s=0.01,
        database_url=POSTGRES_URL,
        database_schema=postgres_db.schemas["triage"],
        data_dir=tmp_path,
        data_keys=DATA_KEYS,
    )
    runtime = ServiceRuntime(
        settings,
        [],
        Subscription("probe", [CALLS], {EventType.CALL_RECEIVED: collide_then_apply}),
    )
    consumer = runtime.consumer
    assert consumer is not None
    await runtime.start()
    try:
        await runtime.bus.ready.wait()
        await publish(broker.bootstrap, CALLS, call_received_record(1), key=b"incident-1")
        await eventually(lambda: applied == ["event-1"], timeout_s=60, what="the event applied")
    finally:
        await runtime.stop()
    assert len(attempts) == DEADLOCKS + 1
    assert consumer.dead_lettered == 0
    # The exhausted budget handed the record back to the broker (a re-join and re-read).
    assert consumer.restarts == 1
