"""The link in an offer SMS opens the responder's page, and its buttons move the assignment.

Real broker, SQLite and PostgreSQL; console SMS backend; notify on a clock the
test moves, so the link's expiry is tested without waiting twelve hours.
"""

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest_asyncio

from services.cli.stack import Tansu
from tests.support.clock import ManualClock
from tests.support.databases import DatabaseTarget
from tests.support.flow import incident, submit
from tests.support.inprocess import DEMO_CALL, InProcessStack, mint_token
from tests.support.waiting import eventually

PUBLIC = "https://corespond.example.org"
ROSTER = [
    {
        "call_sign": f"STAR-{n}",
        "agency": "STAR",
        "roles": ["clinician"],
        "phone": f"+1720555070{n}",
        "lat": 39.7392 + n * 0.003,
        "lon": -104.9903,
    }
    for n in (1, 2, 3)
]


class Phone:
    """A responder's phone browser: no API token, only the link from the SMS."""

    def __init__(self, stack: InProcessStack) -> None:
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=stack.apps["notify"]), base_url="http://notify"
        )

    async def open(self, path: str) -> httpx.Response:
        return await self.client.get(path)

    async def press(self, path: str, answer: str) -> httpx.Response:
        pressed = await self.client.post(path, data={"answer": answer})
        assert pressed.status_code == 303, pressed.text
        return await self.client.get(pressed.headers["location"])


@pytest_asyncio.fixture
async def clock() -> ManualClock:
    return ManualClock()


@pytest_asyncio.fixture
async def stack(
    broker: Tansu, database: DatabaseTarget, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[InProcessStack]:
    roster = tmp_path / "roster.json"
    roster.write_text(json.dumps(ROSTER))
    async with InProcessStack(
        broker.bootstrap,
        database,
        tmp_path,
        roster=roster,
        overrides={"notify": {"public_base_url": PUBLIC}},
        notify_clock=clock,
    ) as running:
        yield running


async def _link(stack: InProcessStack, incident_id: str, to_masked: str) -> str:
    async def probe() -> str | None:
        params = {"incident_id": incident_id}
        messages = (await stack.notify.get("/v1/messages", params=params)).json()
        for m in messages:
            if m["to_masked"] == to_masked and m["status"] == "sent" and "Open:" in m["body"]:
                found = re.search(rf"Open: {re.escape(PUBLIC)}(/r/[\w-]+)$", m["body"])
                assert found, m["body"]
                return found.group(1)
        return None

    return await eventually(probe, what=f"offer SMS to {to_masked}")


async def _assignment(
    stack: InProcessStack, incident_id: str, call_sign: str, status: str
) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        view = await incident(stack.dispatch, incident_id)
        wanted = [
            a for a in view["assignments"] if a["call_sign"] == call_sign and a["status"] == status
        ]
        return wanted[0] if wanted else None

    return await eventually(probe, what=f"{call_sign} {status}")


async def test_the_page_answers_the_assignment_to_the_end(stack: InProcessStack) -> None:
    incident_id = await submit(stack.dispatch, DEMO_CALL)
    path = await _link(stack, incident_id, "+1720***0701")
    assert len(path.removeprefix("/r/")) >= 32  # unguessable
    code = (await incident(stack.dispatch, incident_id))["code"]
    phone = Phone(stack)

    page = await phone.open(path)
    assert page.status_code == 200
    assert f"#{code}" in page.text
    assert "STAR-1" in page.text
    assert ">Accept<" in page.text
    assert ">Decline<" in page.text
    assert ">Arrived<" not in page.text
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    # Minimum necessary: the caller's words never reach the page.
    assert DEMO_CALL["narrative"][:30] not in page.text

    page = await phone.press(path, "accept")
    assert "You accepted" in page.text
    assert ">Arrived<" in page.text
    assert ">Accept<" not in page.text
    accepted = await _assignment(stack, incident_id, "STAR-1", "accepted")
    assert accepted["updated_by"] == "responder page of +1720***0701"

    # A second press of an answer already given moves nothing and says so.
    late = await phone.press(path, "accept")
    assert "no longer applies" in late.text

    await phone.press(path, "arrived")
    await _assignment(stack, incident_id, "STAR-1", "on_scene")
    await phone.press(path, "done")
    await _assignment(stack, incident_id, "STAR-1", "cleared")

    async def ended() -> str | None:
        text = (await phone.open(path)).text
        return text if "has ended" in text else None

    final = await eventually(ended, what="the page showing the assignment over")
    assert "<button" not in final


async def test_decline_on_the_page_escalates(stack: InProcessStack) -> None:
    incident_id = await submit(stack.dispatch, DEMO_CALL)
    path = await _link(stack, incident_id, "+1720***0701")
    page = await Phone(stack).press(path, "decline")
    assert "You declined" in page.text
    await _assignment(stack, incident_id, "STAR-1", "declined")
    await _assignment(stack, incident_id, "STAR-2", "offered")
    # The next responder gets a link of their own, not the first one's.
    assert await _link(stack, incident_id, "+1720***0702") != path


async def test_the_link_expires_and_opens_nothing_else(
    stack: InProcessStack, clock: ManualClock
) -> None:
    incident_id = await submit(stack.dispatch, DEMO_CALL)
    path = await _link(stack, incident_id, "+1720***0701")
    phone = Phone(stack)

    assert (await phone.open("/r/not-a-real-token")).status_code == 410
    bad = await phone.client.post(path, data={"answer": "maybe"})
    assert bad.status_code == 422
    # The link is not an API credential.
    api = await phone.client.get(
        "/v1/messages", headers={"Authorization": f"Bearer {path.removeprefix('/r/')}"}
    )
    assert api.status_code == 401

    clock.advance(12 * 3600 + 1)
    assert (await phone.open(path)).status_code == 410
    gone = await phone.client.post(path, data={"answer": "accept"})
    assert gone.status_code == 410
    view = await incident(stack.dispatch, incident_id)
    assert [a["status"] for a in view["assignments"]] == ["offered"]


async def test_only_the_operator_playing_the_phone_sees_the_link_token(
    stack: InProcessStack,
) -> None:
    """A dispatcher holding a responder's link could answer an offer as that responder."""
    incident_id = await submit(stack.dispatch, DEMO_CALL)
    path = await _link(stack, incident_id, "+1720***0701")  # read as admin: the whole link
    token = path.removeprefix("/r/")

    for role in ("dispatcher", "supervisor"):
        headers = {"Authorization": f"Bearer {mint_token([role])}"}
        seen = await stack.notify.get(
            "/v1/messages", params={"incident_id": incident_id}, headers=headers
        )
        assert seen.status_code == 200
        assert token not in seen.text
        assert f"{PUBLIC}/r/[redacted]" in seen.text
