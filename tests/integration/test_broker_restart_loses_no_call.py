"""A broker that restarts empty loses events it had acknowledged; no call is lost with them.

The embedded broker keeps everything in memory, so a kill and restart drops
events the relay already marked sent (Apache Kafka does the same when a
partition is lost with its replicas). Dispatch reconciles end to end: a call
with no decision, or an offer notify never reported on, is asked for again.

- A question lost: ``call.received`` published while triage was down, then the
  broker restarted empty. Triage never sees it unless dispatch sends it again.
- An answer lost: triage decided and published ``call.triaged``, dispatch had not
  read it when the broker restarted. Dispatch sends the call again; triage, whose
  inbox has it, does not decide twice but sends its stored decision again.
- A stream of 60 calls with the broker killed for 10 s a third of the way in:
  every accepted call texted, and each exactly once. On PostgreSQL with two
  replicas of each service.
"""

import asyncio
import json
from pathlib import Path
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy import select

from schemas.envelope import EventType
from services.cli.bench import demo_roster
from services.cli.stack import Tansu
from services.common.metrics import DUPLICATE
from services.common.outbox import OutboxRecord
from services.common.topics import CALLS, TRIAGE
from tests.support.call_stream import (
    assert_each_call_handled_once,
    sample_call,
    wait_until_all_texted,
)
from tests.support.databases import DatabaseTarget
from tests.support.flow import submit, until_texted
from tests.support.inprocess import InProcessStack
from tests.support.raw_rows import count_rows
from tests.support.waiting import eventually

# Reconciliation at test speed: ask again after 2 s, look every 0.5 s, and keep
# asking for as long as a consumer may take to rejoin a restarted broker.
FAST_RECONCILE = {
    "reconcile_triage_after_s": 2.0,
    "reconcile_offer_after_s": 2.0,
    "reconcile_interval_s": 0.5,
    "reconcile_max_resends": 30,
}


def _stack(broker: Tansu, database: DatabaseTarget, roster: Path, tmp: Path) -> InProcessStack:
    return InProcessStack(
        broker.bootstrap, database, tmp, roster=roster, overrides={"dispatch": FAST_RECONCILE}
    )


def _restart_empty(broker: Tansu) -> None:
    """SIGKILL, as a crash would; the new broker on the same port knows nothing."""
    assert broker.process is not None
    broker.process.kill()
    broker.process.wait()
    broker.start()


async def _published(stack: InProcessStack, service: str, event_type: str) -> bool:
    async with stack.runtime(service).db.session() as session:
        rows = await session.scalars(
            select(OutboxRecord.published_at).where(OutboxRecord.event_type == event_type)
        )
        return all(at is not None for at in rows.all())


def _resent(stack: InProcessStack, check: str) -> float:
    counter = stack.runtime("dispatch").metrics.reconcile_resent
    return float(counter.labels(check)._value.get())


async def test_a_call_whose_event_the_broker_lost_is_sent_again(
    broker: Tansu, sqlite_db: DatabaseTarget, roster: Path, tmp_path: Path
) -> None:
    database = sqlite_db  # the PostgreSQL run is the stream below, with replicas
    stack = _stack(broker, database, roster, tmp_path)
    try:
        await stack.start("dispatch", "notify")
        incident_id = await submit(stack.dispatch)
        await eventually(
            lambda: _published(stack, "dispatch", EventType.CALL_RECEIVED),
            what="call.received handed to the broker",
        )
        _restart_empty(broker)
        await stack.start("triage")

        await until_texted(stack.dispatch, incident_id, timeout_s=60)
        assert _resent(stack, "triage") >= 1
        assert await count_rows(database, "triage", "triage_decisions") == 1
    finally:
        await stack.stop()


async def test_a_decision_the_broker_lost_is_sent_again_not_made_again(
    broker: Tansu, sqlite_db: DatabaseTarget, roster: Path, tmp_path: Path
) -> None:
    database = sqlite_db  # the PostgreSQL run is the stream below, with replicas
    stack = _stack(broker, database, roster, tmp_path)
    try:
        await stack.start()
        await until_texted(stack.dispatch, await submit(stack.dispatch))  # all joined
        consumer = stack.runtime("dispatch").consumer
        assert consumer is not None
        assert consumer.kafka_consumer is not None
        # Dispatch stops reading decisions, so the next one waits on the broker.
        live = consumer.kafka_consumer
        held = [p for p in live.assignment() if p.topic == TRIAGE]
        live.pause(*held)

        incident_id = await submit(stack.dispatch)
        await eventually(
            lambda: _published(stack, "triage", EventType.CALL_TRIAGED),
            what="call.triaged handed to the broker",
        )
        _restart_empty(broker)

        await until_texted(stack.dispatch, incident_id, timeout_s=60)
        assert _resent(stack, "triage") >= 1
        # Triage heard the call twice and decided once: its stored decision went again.
        duplicates = stack.runtime("triage").metrics.events_consumed
        assert duplicates.labels(EventType.CALL_RECEIVED, DUPLICATE)._value.get() >= 1
        assert await count_rows(database, "triage", "triage_decisions") == 2
        view = (await stack.dispatch.get(f"/v1/incidents/{incident_id}")).json()
        assert [e["kind"] for e in view["timeline"]].count("call.triaged") == 1
    finally:
        await stack.stop()


CALLS_IN_STREAM = 60
OUTAGE_S = 10.0


async def test_a_stream_across_a_broker_restart_is_texted_exactly_once(
    broker: Tansu, database: DatabaseTarget, tmp_path: Path
) -> None:
    roster = tmp_path / "stream-roster.json"  # a unit of every role for every call
    roster.write_text(json.dumps(demo_roster(units_per_role=CALLS_IN_STREAM + 5)))
    stack = _stack(broker, database, roster, tmp_path)
    # On PostgreSQL, as in production: two replicas of each service share the work.
    names: tuple[str, ...] = ("dispatch", "triage", "notify")
    if database.kind == "postgres":
        names = (*names, "dispatch#2", "triage#2", "notify#2")
    incident_ids: list[str] = []
    try:
        await stack.start(*names)
        incident_ids.append(await submit(stack.dispatch))
        await until_texted(stack.dispatch, incident_ids[0])  # every consumer has joined
        restarted: asyncio.Task[Any] | None = None
        for i in range(CALLS_IN_STREAM):
            if i == CALLS_IN_STREAM // 3:
                assert broker.process is not None
                broker.process.kill()
                broker.process.wait()
                restarted = asyncio.create_task(_start_after(broker, OUTAGE_S))
            incident_ids.append(await submit(stack.dispatch, sample_call(i)))
            await asyncio.sleep(1 / 6)  # about 6 calls a second, across the outage
        assert restarted is not None
        await restarted

        views = await wait_until_all_texted(stack.dispatch, "", incident_ids)
        messages = (await stack.notify.get("/v1/messages", params={"limit": 1000})).json()
        await assert_each_call_handled_once(views, messages, database, len(incident_ids))
        await _assert_topics_made_as_configured(broker)
    finally:
        await stack.stop()


async def _start_after(broker: Tansu, delay_s: float) -> None:
    await asyncio.sleep(delay_s)
    await asyncio.to_thread(broker.start)


async def _assert_topics_made_as_configured(broker: Tansu) -> None:
    """The topics came back with our partition count, not the broker's default."""
    admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics([CALLS, TRIAGE])
    finally:
        await admin.close()
    for topic in described:
        assert len(topic["partitions"]) == 6, topic["topic"]
