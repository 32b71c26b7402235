"""Warm handoffs: the nearest open provider with room is asked by SMS, and the next one when it
declines or lets the request lapse; accepted handoffs take a place; nobody left alerts a supervisor.

Real broker, SQLite and PostgreSQL; dispatch's clock is moved by hand.
"""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio

from services.cli.stack import Tansu
from services.dispatch.app.timers import TimerWorker
from tests.support.clock import ManualClock
from tests.support.databases import DatabaseTarget
from tests.support.flow import incident, submit
from tests.support.inprocess import DEMO_CALL, InProcessStack
from tests.support.waiting import eventually

SCENE = (39.7392, -104.9903)


def _provider(org: str, phone: str, km_north: float, **extra: Any) -> dict[str, Any]:
    return {
        "organization": org,
        "service": {"name": "Withdrawal management bed", "type": "detox"},
        "location": {"lat": SCENE[0] + km_north / 111.0, "lon": SCENE[1]},
        "contact": {"phone": phone},
        **extra,
    }


DIRECTORY = [
    _provider("Near CARES", "+17205550801", 1, capacity=2),
    _provider("Far Detox", "+17205550802", 8),  # capacity not reported
    _provider("Full Detox", "+17205550803", 0.5, capacity=0),  # nearest, but full
    {
        **_provider("Shelter", "+17205550804", 0.2),
        "service": {"name": "Shelter bed", "type": "shelter_bed"},
    },
]


@pytest_asyncio.fixture
async def desk(
    broker: Tansu, database: DatabaseTarget, tmp_path: Path
) -> AsyncIterator[tuple[InProcessStack, ManualClock]]:
    clock = ManualClock()
    stack = InProcessStack(
        broker.bootstrap,
        database,
        tmp_path,
        dispatch_clock=clock,
        overrides={"dispatch": {"timer_poll_interval_s": 3600}},
    )
    async with stack:
        for entry in DIRECTORY:
            added = await stack.dispatch.post("/v1/providers", json=entry)
            assert added.status_code == 201, added.text
        yield stack, clock


async def _handoff_sms(stack: InProcessStack, incident_id: str, phone_tail: str) -> str:
    async def probe() -> str | None:
        params = {"incident_id": incident_id}
        messages = (await stack.notify.get("/v1/messages", params=params)).json()
        found = [
            m["body"]
            for m in messages
            if m["to_masked"].endswith(phone_tail) and m["status"] == "sent"
        ]
        return found[0] if found else None

    body: str = await eventually(probe, what=f"handoff SMS to ...{phone_tail}")
    return body


async def _handoff(stack: InProcessStack, incident_id: str, status: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        listed = (await stack.dispatch.get(f"/v1/incidents/{incident_id}/handoffs")).json()
        return listed[0] if listed and listed[0]["status"] == status else None

    found: dict[str, Any] = await eventually(probe, what=f"handoff {status}")
    return found


async def _reply(stack: InProcessStack, phone: str, body: str) -> str:
    answer = await stack.notify.post("/v1/console/sms/inbound", json={"from": phone, "body": body})
    reply: str = answer.json()["reply"]
    return reply


async def test_accepted_by_the_nearest_provider_with_room(
    desk: tuple[InProcessStack, ManualClock],
) -> None:
    stack, _clock = desk
    incident_id = await submit(stack.dispatch, DEMO_CALL)
    asked = await stack.dispatch.post(
        f"/v1/incidents/{incident_id}/handoffs", json={"service": "detox"}
    )
    assert asked.status_code == 201, asked.text
    assert asked.json()["organization"] == "Near CARES"  # the full one is skipped
    code = (await incident(stack.dispatch, incident_id))["code"]
    body = await _handoff_sms(stack, incident_id, "0801")
    assert f"#{code}" in body
    assert "Withdrawal management bed" in body
    for word in ("voices", "son", "overdose", "fentanyl", "name"):
        assert word not in body.lower()

    await _reply(stack, "+17205550801", f"Y {code}")
    await _handoff(stack, incident_id, "accepted")
    listed = {p["organization"]: p for p in (await stack.dispatch.get("/v1/providers")).json()}
    assert listed["Near CARES"]["capacity"] == 1  # one place taken
    kinds = [e["kind"] for e in (await incident(stack.dispatch, incident_id))["timeline"]]
    assert [k for k in kinds if k.startswith("handoff.")] == [
        "handoff.requested",
        "handoff.offered",
        "handoff.accepted",
    ]


async def test_decline_then_no_answer_then_nobody_left_alerts_a_supervisor(
    desk: tuple[InProcessStack, ManualClock],
) -> None:
    stack, clock = desk
    incident_id = await submit(stack.dispatch, DEMO_CALL)
    await stack.dispatch.post(f"/v1/incidents/{incident_id}/handoffs", json={"service": "detox"})
    code = (await incident(stack.dispatch, incident_id))["code"]
    await _handoff_sms(stack, incident_id, "0801")
    await _reply(stack, "+17205550801", f"N {code}")

    moved = await _handoff(stack, incident_id, "offered")
    await eventually(
        lambda: _handoff_sms(stack, incident_id, "0802"), what="the next provider asked"
    )
    moved = (await stack.dispatch.get(f"/v1/incidents/{incident_id}/handoffs")).json()[0]
    assert moved["organization"] == "Far Detox"

    clock.advance(601)  # the policy's 10 minutes pass without an answer
    timers: TimerWorker = stack.apps["dispatch"].state.timers
    assert await timers.fire_due() >= 1
    await _handoff(stack, incident_id, "unplaced")
    alerts = (await stack.dispatch.get("/v1/alerts")).json()
    mine = [a["kind"] for a in alerts if a["incident_id"] == incident_id]
    assert mine.count("handoff_unplaced") == 1  # (no units in this test: roles unfilled too)
    summaries = [e["summary"] for e in (await incident(stack.dispatch, incident_id))["timeline"]]
    assert any("Near CARES declined" in s for s in summaries)
    assert any("Far Detox did not answer in time" in s for s in summaries)


async def test_a_bad_directory_entry_is_refused_naming_the_field(
    desk: tuple[InProcessStack, ManualClock],
) -> None:
    stack, _clock = desk
    bad = {
        **DIRECTORY[0],
        "timezone": "Mars/Olympus",
        "schedule": [{"days": ["funday"], "opens": "8am", "closes": "17:00"}],
    }
    refused = await stack.dispatch.post("/v1/providers", json=bad)
    assert refused.status_code == 422
    for field in ("timezone", "schedule.0.days.0", "schedule.0.opens"):
        assert field in refused.text
