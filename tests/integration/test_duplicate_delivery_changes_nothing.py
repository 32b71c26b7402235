"""The same event delivered twice changes nothing: one decision, one assignment, one SMS."""

from sqlalchemy import func, select

from schemas.envelope import CloudEvent, EventType
from services.common.clock import new_id
from services.common.outbox import OutboxRecord
from services.common.topics import ASSIGNMENTS, CALLS
from services.notify.adapters.models import ConsoleSms, MessageRecord
from services.triage.adapters.models import DecisionRecord
from tests.support.flow import incident, submit, until_texted
from tests.support.inprocess import InProcessStack
from tests.support.kafka import publish
from tests.support.waiting import eventually


async def _outbox_event(stack: InProcessStack, service: str, event_type: str) -> OutboxRecord:
    async with stack.runtime(service).db.session() as session:
        row = await session.scalar(
            select(OutboxRecord).where(OutboxRecord.event_type == event_type)
        )
    assert row is not None
    return row


async def _count(stack: InProcessStack, service: str, model: type, **where: str) -> int:
    async with stack.runtime(service).db.session() as session:
        query = select(func.count()).select_from(model)
        for column, value in where.items():
            query = query.where(getattr(model, column) == value)
        return int(await session.scalar(query) or 0)


async def test_redelivered_events_are_applied_once(stack: InProcessStack) -> None:
    incident_id = await submit(stack.dispatch)
    await until_texted(stack.dispatch, incident_id)
    received = await _outbox_event(stack, "dispatch", EventType.CALL_RECEIVED)
    offered = await _outbox_event(stack, "dispatch", EventType.ASSIGNMENT_OFFERED)
    triage_consumer = stack.runtime("triage").consumer
    notify_consumer = stack.runtime("notify").consumer
    assert triage_consumer is not None
    assert notify_consumer is not None

    # Exactly what a relay re-publishing after a crash would send: same ids.
    for row in (received, offered):
        await publish(stack.bootstrap, row.topic, row.payload.encode(), row.key.encode())

    await eventually(
        lambda: triage_consumer.duplicates >= 1 and notify_consumer.duplicates >= 1,
        what="both consumers to see the redelivery",
    )
    view = await incident(stack.dispatch, incident_id)
    assert await _count(stack, "triage", DecisionRecord) == 1
    assert len(view["assignments"]) == 1
    assert await _count(stack, "notify", MessageRecord) == 1
    assert await _count(stack, "notify", ConsoleSms) == 1
    assert [e["kind"] for e in view["timeline"]].count("call.triaged") == 1


async def test_a_second_event_for_the_same_offer_sends_no_second_sms(stack: InProcessStack) -> None:
    incident_id = await submit(stack.dispatch)
    await until_texted(stack.dispatch, incident_id)
    offered = await _outbox_event(stack, "dispatch", EventType.ASSIGNMENT_OFFERED)
    received = await _outbox_event(stack, "dispatch", EventType.CALL_RECEIVED)
    notify_consumer = stack.runtime("notify").consumer
    triage_consumer = stack.runtime("triage").consumer
    assert notify_consumer is not None
    assert triage_consumer is not None
    before = (notify_consumer.processed, triage_consumer.processed)

    # A new event id for the same offer / the same incident (say, a replayed
    # producer bug): the inbox lets it in, the domain keys stop it.
    for row, topic in ((offered, ASSIGNMENTS), (received, CALLS)):
        copy = CloudEvent.model_validate_json(row.payload).model_copy(update={"id": new_id()})
        await publish(stack.bootstrap, topic, copy.model_dump_json().encode(), row.key.encode())

    await eventually(
        lambda: notify_consumer.processed > before[0] and triage_consumer.processed > before[1],
        what="both copies consumed",
    )
    assert await _count(stack, "notify", ConsoleSms) == 1
    assert await _count(stack, "triage", DecisionRecord) == 1
    view = await incident(stack.dispatch, incident_id)
    assert len(view["assignments"]) == 1
