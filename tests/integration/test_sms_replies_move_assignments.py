"""A responder answers by SMS and the assignment moves: accept, decline, arrived, done, STOP.

Console backend (its reply simulator stands in for the phone), real broker,
SQLite and PostgreSQL: the reply travels notify → dispatch as an event.
"""

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio

from services.cli.stack import Tansu
from tests.support.databases import DatabaseTarget
from tests.support.flow import incident, submit
from tests.support.inprocess import DEMO_CALL, InProcessStack
from tests.support.waiting import eventually

PHONES = {"STAR-1": "+17205550401", "STAR-2": "+17205550402", "STAR-3": "+17205550403"}
ROSTER = [
    {
        "call_sign": sign,
        "agency": "STAR",
        "roles": ["clinician"],
        "phone": phone,
        "lat": 39.7392 + n * 0.003,
        "lon": -104.9903,
    }
    for n, (sign, phone) in enumerate(PHONES.items(), start=1)
]


@pytest_asyncio.fixture
async def phones(
    broker: Tansu, database: DatabaseTarget, tmp_path: Path
) -> AsyncIterator[InProcessStack]:
    roster = tmp_path / "roster.json"
    roster.write_text(json.dumps(ROSTER))
    async with InProcessStack(broker.bootstrap, database, tmp_path, roster=roster) as stack:
        yield stack


async def _text(stack: InProcessStack, phone: str, body: str) -> str:
    answer = await stack.notify.post("/v1/console/sms/inbound", json={"from": phone, "body": body})
    assert answer.status_code == 200, answer.text
    reply: str = answer.json()["reply"]
    return reply


async def _texted(stack: InProcessStack, incident_id: str, count: int = 1) -> None:
    """Until notify holds the offer SMS: a reply can only match what notify has sent."""

    async def probe() -> bool:
        params = {"incident_id": incident_id}
        messages = (await stack.notify.get("/v1/messages", params=params)).json()
        return bool(sum(m["status"] == "sent" for m in messages) >= count)

    await eventually(probe, what=f"offer SMS for {incident_id}")


async def _assignment(
    stack: InProcessStack, incident_id: str, call_sign: str, status: str
) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        view = await incident(stack.dispatch, incident_id)
        return next(
            (
                a
                for a in view["assignments"]
                if a["call_sign"] == call_sign and a["status"] == status
            ),
            None,
        )

    return await eventually(probe, what=f"{call_sign} {status}")


async def test_y_code_accepts_then_arrived_and_done_move_it_to_the_end(
    phones: InProcessStack,
) -> None:
    incident_id = await submit(phones.dispatch, DEMO_CALL)
    await _texted(phones, incident_id)
    code = (await incident(phones.dispatch, incident_id))["code"]

    assert await _text(phones, PHONES["STAR-1"], f"Y {code}") == (
        f"Got it: accept for #{code} sent to dispatch."
    )
    accepted = await _assignment(phones, incident_id, "STAR-1", "accepted")
    assert accepted["updated_by"] == "SMS from +1720***0401"

    await _text(phones, PHONES["STAR-1"], f"arrived {code}")
    await _assignment(phones, incident_id, "STAR-1", "on_scene")
    await _text(phones, PHONES["STAR-1"], "DONE")
    await _assignment(phones, incident_id, "STAR-1", "cleared")

    # The same answer again finds nothing open: a clear answer, nothing moves.
    assert "No open corespond assignment" in await _text(phones, PHONES["STAR-1"], f"Y {code}")


async def test_decline_by_sms_escalates_and_unclear_replies_get_a_clarification(
    phones: InProcessStack,
) -> None:
    incident_id = await submit(phones.dispatch, DEMO_CALL)
    await _texted(phones, incident_id)
    assert "not understood" in await _text(phones, PHONES["STAR-1"], "on my way maybe")
    await _text(phones, PHONES["STAR-1"], "no")
    await _assignment(phones, incident_id, "STAR-1", "declined")
    await _assignment(phones, incident_id, "STAR-2", "offered")  # the policy's next step


async def test_a_code_picks_the_offer_when_one_phone_holds_several(
    phones: InProcessStack,
) -> None:
    # One on-call phone for two vans: both offers reach the same number.
    units = {u["call_sign"]: u for u in (await phones.dispatch.get("/v1/units")).json()}
    for sign in ("STAR-2", "STAR-3"):
        off = {"status": "off_duty"}
        await phones.dispatch.post(f"/v1/units/{units[sign]['id']}/status", json=off)
    twin = {**ROSTER[0], "call_sign": "STAR-1B", "lat": 39.7392 + 0.004}
    assert (await phones.dispatch.post("/v1/units", json=twin)).status_code == 201
    first = await submit(phones.dispatch, DEMO_CALL)
    await _assignment(phones, first, "STAR-1", "offered")
    second = await submit(phones.dispatch, DEMO_CALL)
    await _assignment(phones, second, "STAR-1B", "offered")
    await _texted(phones, first)
    await _texted(phones, second)
    code1, code2 = [(await incident(phones.dispatch, i))["code"] for i in (first, second)]

    asked = await _text(phones, PHONES["STAR-1"], "Y")
    assert "several open" in asked
    assert code1 in asked
    assert code2 in asked
    await _text(phones, PHONES["STAR-1"], f"Y {code2}")
    await _assignment(phones, second, "STAR-1B", "accepted")
    still = await incident(phones.dispatch, first)
    assert [a["status"] for a in still["assignments"]] == ["offered"]


async def test_stop_opts_out_so_the_next_offer_is_skipped_and_escalates(
    phones: InProcessStack,
) -> None:
    assert "no more corespond messages" in await _text(phones, PHONES["STAR-1"], "STOP")
    incident_id = await submit(phones.dispatch, DEMO_CALL)
    declined = await _assignment(phones, incident_id, "STAR-1", "declined")
    assert declined["updated_by"] == "notify"
    await _assignment(phones, incident_id, "STAR-2", "offered")
    view = await incident(phones.dispatch, incident_id)
    assert any("opted_out" in e["summary"] for e in view["timeline"])
    messages = (await phones.notify.get("/v1/messages", params={"incident_id": incident_id})).json()
    skipped = [m for m in messages if m["status"] == "skipped"]
    assert [m["error_code"] for m in skipped] == ["opted_out"]

    # Dispatch marks the unit on the board and offers it by SMS no more.
    units = {u["call_sign"]: u for u in (await phones.dispatch.get("/v1/units")).json()}
    assert units["STAR-1"]["sms_opted_out"] is True
    assert units["STAR-2"]["sms_opted_out"] is False
    assert units["STAR-2"]["assignment_status"] == "offered"
    assert units["STAR-2"]["incident_code"] == view["code"]
    # STAR-2 and STAR-3 are both asked (the P2 second step); STAR-1 is free but
    # opted out: a second call finds nobody to offer by SMS.
    again = await submit(phones.dispatch, DEMO_CALL)

    async def unassigned() -> dict[str, Any] | None:
        found = await incident(phones.dispatch, again)
        return found if found["status"] == "unassigned" else None

    assert (await eventually(unassigned, what="the second call unassigned"))["assignments"] == []

    assert "on again" in await _text(phones, PHONES["STAR-1"], "START")


async def test_a_withdrawn_offer_is_texted_and_can_no_longer_be_accepted(
    phones: InProcessStack,
) -> None:
    incident_id = await submit(phones.dispatch, DEMO_CALL)
    await _texted(phones, incident_id)
    await _text(phones, PHONES["STAR-1"], "N")
    # The policy's second step offers STAR-2 and STAR-3 at once.
    await _assignment(phones, incident_id, "STAR-2", "offered")
    await _assignment(phones, incident_id, "STAR-3", "offered")
    await _texted(phones, incident_id, count=3)
    code = (await incident(phones.dispatch, incident_id))["code"]
    await _text(phones, PHONES["STAR-3"], f"Y {code}")
    await _assignment(phones, incident_id, "STAR-2", "cancelled")

    async def withdrawn() -> list[dict[str, Any]] | None:
        params = {"incident_id": incident_id}
        messages = (await phones.notify.get("/v1/messages", params=params)).json()
        found = [m for m in messages if "withdrawn" in m["body"] and m["status"] == "sent"]
        return found or None

    [sms] = await eventually(withdrawn, what="STAR-2 told not to go")
    assert sms["to_masked"] == "+1720***0402"
    assert f"#{code}" in sms["body"]
    assert "No open corespond assignment" in await _text(phones, PHONES["STAR-2"], f"Y {code}")
