"""Messages no consumer can apply go to a dead-letter topic with their reason; the rest flow on.

``corespond dlq list`` shows them and ``corespond dlq replay`` puts a fixed one back.
"""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from schemas.envelope import CloudEvent, EventType
from services.common.clock import new_id
from services.common.dlq import DeadLetter, read_dead_letters
from services.common.settings import ServiceSettings
from services.common.topics import CALLS, NOTIFICATIONS, TRIAGE
from tests.support.cli import corespond
from tests.support.flow import incident, submit, until_texted
from tests.support.inprocess import InProcessStack
from tests.support.kafka import orphan_triaged_record, publish
from tests.support.waiting import eventually


async def dead_letters(bootstrap: str, topic: str) -> list[DeadLetter]:
    """What `corespond dlq list` reads, through the same code."""
    return await read_dead_letters(ServiceSettings(kafka_bootstrap_servers=bootstrap), [topic])


def _status_event(incident_id: str, notification_id: str, status: str) -> CloudEvent:
    return CloudEvent(
        id=new_id(),
        source="corespond/notify",
        type=EventType.NOTIFICATION_STATUS,
        time=datetime.now(UTC),
        subject=incident_id,
        correlationid=new_id(),
        data={
            "notification_id": notification_id,
            "incident_id": incident_id,
            "status": status,
            "occurred_at": datetime.now(UTC).isoformat(),
        },
    )


async def test_unparseable_message_is_dead_lettered_and_calls_still_flow(
    sqlite_stack: InProcessStack,
) -> None:
    stack = sqlite_stack
    await publish(stack.bootstrap, CALLS, b'{"specversion": "1.0", "id": ', key=b"garbage")

    view = await until_texted(stack.dispatch, await submit(stack.dispatch))

    assert view["triage"] is not None
    [letter] = await dead_letters(stack.bootstrap, "corespond.dlq.triage")
    headers = dict(letter.headers)
    assert headers["dlq.reason"].decode().startswith("not a valid CloudEvent")
    assert headers["dlq.source.topic"] == CALLS.encode()
    assert letter.value == b'{"specversion": "1.0", "id": '


async def test_handler_that_keeps_failing_is_dead_lettered_after_bounded_retries(
    sqlite_stack: InProcessStack,
) -> None:
    stack = sqlite_stack
    await publish(stack.bootstrap, TRIAGE, orphan_triaged_record(), key=b"no-such-incident")

    letters = await eventually(
        lambda: dead_letters(stack.bootstrap, "corespond.dlq.dispatch"), what="a dead letter"
    )
    reason = dict(letters[0].headers)["dlq.reason"].decode()
    attempts = stack.runtime("dispatch").settings.consumer_max_attempts
    assert reason.startswith(f"handler failed {attempts} times")
    assert "no-such-incident" in reason
    # ... and the consumer moved on.
    await until_texted(stack.dispatch, await submit(stack.dispatch))


async def test_dlq_list_and_replay_of_a_fixed_message(
    sqlite_stack: InProcessStack, tmp_path: Path
) -> None:
    stack = sqlite_stack
    view = await until_texted(stack.dispatch, await submit(stack.dispatch))
    notification_id = view["notifications"][0]["id"]
    broken = _status_event(view["id"], notification_id, "exploded")
    await publish(
        stack.bootstrap, NOTIFICATIONS, broken.model_dump_json().encode(), view["id"].encode()
    )
    await eventually(
        lambda: dead_letters(stack.bootstrap, "corespond.dlq.dispatch"), what="the dead letter"
    )

    listed = await corespond("dlq", "list", "--json", "--bootstrap", stack.bootstrap)
    assert listed.code == 0, listed.err
    [entry] = [json.loads(line) for line in listed.out.splitlines()]
    assert entry["dlq_topic"] == "corespond.dlq.dispatch"
    assert entry["source_topic"] == NOTIFICATIONS
    assert "status" in entry["reason"]
    assert entry["event_id"] is None or entry["event_id"] == broken.id

    human = await corespond("dlq", "list", "--bootstrap", stack.bootstrap)
    assert "reason:" in human.out

    fixed = tmp_path / "fixed.json"
    fixed.write_text(
        broken.model_copy(update={"data": {**broken.data, "status": "delivered"}}).model_dump_json()
    )
    replayed = await corespond(
        "dlq",
        "replay",
        "--bootstrap",
        stack.bootstrap,
        "--topic",
        "corespond.dlq.dispatch",
        "--partition",
        str(entry["partition"]),
        "--offset",
        str(entry["offset"]),
        "--value-file",
        str(fixed),
    )
    assert replayed.code == 0, replayed.err
    assert f"-> {NOTIFICATIONS}" in replayed.out

    async def delivered() -> dict[str, Any] | None:
        current = await incident(stack.dispatch, view["id"])
        return current if current["notifications"][0]["status"] == "delivered" else None

    current = await eventually(delivered, what="the replayed status applied")
    assert "notification.delivered" in [e["kind"] for e in current["timeline"]]


async def test_replay_of_an_unknown_offset_is_a_clear_error(sqlite_stack: InProcessStack) -> None:
    ran = await corespond(
        "dlq",
        "replay",
        "--bootstrap",
        sqlite_stack.bootstrap,
        "--topic",
        "corespond.dlq.triage",
        "--offset",
        "99",
    )
    assert ran.code != 0
    assert "no message at corespond.dlq.triage partition 0 offset 99" in ran.err
