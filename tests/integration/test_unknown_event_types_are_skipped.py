"""An event type a consumer does not know is skipped and counted, on every topic; calls go on.

A newer producer adds event types before every consumer knows them. A
well-formed CloudEvent of an unknown type is published on each topic in turn,
straight to the broker, and then a call is submitted: it must be triaged and
texted as if nothing had happened, every consumer must still be healthy, and
the skip must be counted. A known type with a bad payload still goes to the
dead-letter topic (test_dead_letters.py covers that path in full).
"""

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import pytest_asyncio

from schemas.envelope import CloudEvent
from services.cli.bench import demo_roster
from services.cli.stack import Tansu
from services.common import topics
from services.common.clock import new_id
from services.common.consumer import EventConsumer
from services.common.metrics import SKIPPED
from tests.support.databases import sqlite_target
from tests.support.flow import submit, until_texted
from tests.support.inprocess import InProcessStack
from tests.support.kafka import publish
from tests.support.waiting import eventually

pytestmark = pytest.mark.asyncio(loop_scope="module")

# Who consumes each topic (the audit trail is dispatch's; identity is everyone's).
CONSUMERS = {
    topics.CALLS: ["triage"],
    topics.TRIAGE: ["dispatch"],
    topics.ASSIGNMENTS: ["notify"],
    topics.NOTIFICATIONS: ["dispatch"],
    topics.IDENTITY: ["dispatch", "triage", "notify"],
    topics.AUDIT: ["dispatch"],
}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(
    module_broker: Tansu, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[InProcessStack]:
    directory = tmp_path_factory.mktemp("unknown-types")
    roster = directory / "roster.json"
    roster.write_text(json.dumps(demo_roster(units_per_role=20)))
    async with InProcessStack(
        module_broker.bootstrap, sqlite_target(directory), directory, roster=roster
    ) as running:
        yield running


def _unknown_event(subject: str) -> bytes:
    return (
        CloudEvent(
            id=new_id(),
            source="corespond/a-newer-release",
            type="corespond.something.new.v1",
            time=datetime.now(UTC),
            subject=subject,
            correlationid=new_id(),
            data={"anything": ["a", "newer", "producer", "sends"]},
        )
        .model_dump_json()
        .encode()
    )


def _skipped(stack: InProcessStack, service: str) -> float:
    counter = stack.runtime(service).metrics.events_consumed
    return float(counter.labels("(unknown)", SKIPPED)._value.get())


@pytest.mark.parametrize("topic", list(CONSUMERS))
async def test_an_unknown_type_is_skipped_and_the_stream_goes_on(
    stack: InProcessStack, topic: str
) -> None:
    services = CONSUMERS[topic]
    before = {service: _skipped(stack, service) for service in services}
    restarts = {service: _consumer(stack, service).restarts for service in services}
    await publish(stack.bootstrap, topic, _unknown_event("incident-x"), key=b"incident-x")

    def all_skipped() -> bool:
        return all(_skipped(stack, s) == before[s] + 1 for s in services)

    await eventually(all_skipped, what="every consumer counted the unknown type as skipped")
    # A call made after it goes all the way: every consumer read on past it.
    await until_texted(stack.dispatch, await submit(stack.dispatch), timeout_s=30)

    for service in services:
        consumer = _consumer(stack, service)
        assert consumer.restarts == restarts[service], f"{service}'s consumer restarted"
        assert consumer.dead_lettered == 0
        health = stack.runtime(service).liveness()
        assert health.ok, health.checks


def _consumer(stack: InProcessStack, service: str) -> EventConsumer:
    consumer = stack.runtime(service).consumer
    assert consumer is not None
    return consumer
