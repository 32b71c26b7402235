"""A telehealth provider's SMS carries corespond's expiring link; opening it is recorded.
The unit on scene (holding the tablet) gets its own link into the same room.

Real broker, SQLite and PostgreSQL; the console backend holds the SMS, or the real
twilio client sends it to the local fake Twilio API.
"""

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio

from services.cli.stack import Tansu
from tests.support.clock import ManualClock
from tests.support.databases import DatabaseTarget
from tests.support.fake_twilio import FakeTwilio
from tests.support.flow import incident, submit
from tests.support.inprocess import DEMO_CALL, InProcessStack
from tests.support.waiting import eventually

ROSTER = [
    {"call_sign": "TH-1", "agency": "TeleCrisis", "roles": ["telehealth"], "phone": "+17205550601"},
    {
        "call_sign": "M4",
        "agency": "Rural Fire",
        "roles": ["emt"],
        "phone": "+17205550602",
        "capabilities": ["telehealth_tablet"],
        "lat": 39.74,
        "lon": -104.99,
    },
]
PUBLIC = "https://corespond.example.org"


@pytest_asyncio.fixture
async def clock() -> ManualClock:
    return ManualClock()


@pytest_asyncio.fixture
async def rural(
    broker: Tansu, database: DatabaseTarget, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[InProcessStack]:
    roster = tmp_path / "roster.json"
    roster.write_text(json.dumps(ROSTER))
    overrides = {
        "notify": {"public_base_url": PUBLIC, "telehealth_video_base_url": "https://video.example"}
    }
    async with InProcessStack(
        broker.bootstrap, database, tmp_path, roster=roster, overrides=overrides, notify_clock=clock
    ) as stack:
        yield stack


async def _join_token(rural: InProcessStack, incident_id: str) -> str:
    async def telehealth_sms() -> str | None:
        messages = (
            await rural.notify.get("/v1/messages", params={"incident_id": incident_id})
        ).json()
        bodies = [m["body"] for m in messages if "Join:" in m["body"]]
        return bodies[0] if bodies else None

    body = await eventually(telehealth_sms, what="the telehealth SMS")
    match = re.search(rf"{re.escape(PUBLIC)}/t/([\w-]+)$", body)
    assert match, body
    assert "video.example" not in body  # the room itself never travels by SMS
    return match.group(1)


async def test_the_join_link_is_recorded_and_leads_to_the_room(rural: InProcessStack) -> None:
    incident_id = await submit(rural.dispatch, {**DEMO_CALL, "jurisdiction": "rural"})
    token = await _join_token(rural, incident_id)
    assert len(token) >= 32  # unguessable
    # The same token opens the assignment's page, which offers the way in too.
    page = await rural.notify.get(f"/r/{token}")
    assert f'href="/t/{token}"' in page.text

    opened = await rural.notify.get(f"/t/{token}")
    assert opened.status_code == 303
    room = opened.headers["location"]
    assert room.startswith("https://video.example/corespond-")

    async def joined() -> list[str] | None:
        view = await incident(rural.dispatch, incident_id)
        found = [e["summary"] for e in view["timeline"] if e["kind"] == "telehealth.joined"]
        return found or None

    [summary] = await eventually(joined, what="clinician joined on the timeline")
    assert "TH-1" in summary

    again = await rural.notify.get(f"/t/{token}")
    assert again.headers["location"] == room
    assert len(await joined() or []) == 1  # the first join is the one recorded

    assert (await rural.notify.get("/t/not-a-real-token")).status_code == 410


async def test_the_join_link_expires(rural: InProcessStack, clock: ManualClock) -> None:
    incident_id = await submit(rural.dispatch, {**DEMO_CALL, "jurisdiction": "rural"})
    token = await _join_token(rural, incident_id)

    clock.advance(4 * 3600 + 1)
    assert (await rural.notify.get(f"/t/{token}")).status_code == 410
    page = await rural.notify.get(f"/r/{token}")
    assert page.status_code == 200  # the page lives a shift; the way into the room does not
    assert "/t/" not in page.text
    view = await incident(rural.dispatch, incident_id)
    assert not [e for e in view["timeline"] if e["kind"] == "telehealth.joined"]


@pytest_asyncio.fixture
async def rural_twilio(
    broker: Tansu, database: DatabaseTarget, tmp_path: Path
) -> AsyncIterator[tuple[InProcessStack, FakeTwilio]]:
    fake = FakeTwilio()
    fake.start()
    roster = tmp_path / "roster.json"
    roster.write_text(json.dumps(ROSTER))
    notify = fake.notify_settings(
        public_base_url=PUBLIC, telehealth_video_base_url="https://video.example"
    )
    stack = InProcessStack(
        broker.bootstrap, database, tmp_path, roster=roster, overrides={"notify": notify}
    )
    try:
        async with stack:
            yield stack, fake
    finally:
        fake.stop()


async def test_the_unit_on_scene_gets_a_link_into_the_same_room(
    rural_twilio: tuple[InProcessStack, FakeTwilio],
) -> None:
    stack, fake = rural_twilio
    incident_id = await submit(stack.dispatch, {**DEMO_CALL, "jurisdiction": "rural"})

    def sent_to(phone: str) -> str | None:
        bodies = [m["Body"] for m in fake.messages if m["To"] == phone]
        return bodies[0] if bodies else None

    clinician = await eventually(lambda: sent_to("+17205550601"), what="TH-1's SMS")
    on_scene = await eventually(lambda: sent_to("+17205550602"), what="M4's SMS")
    # M4 answers on its own page and joins the clinician's room by its own link.
    page_link = re.search(rf"Open: {re.escape(PUBLIC)}/r/([\w-]+)", on_scene)
    video_link = re.search(rf"Video: {re.escape(PUBLIC)}/t/([\w-]+)$", on_scene)
    assert page_link, on_scene
    assert video_link, on_scene
    assert "video.example" not in on_scene  # the room itself never travels by SMS
    clinician_token = re.search(r"/t/([\w-]+)$", clinician)
    assert clinician_token, clinician
    assert video_link.group(1) != clinician_token.group(1)  # each link opens one assignment

    page = await stack.notify.get(f"/r/{page_link.group(1)}")
    assert f'href="/t/{page_link.group(1)}"' in page.text  # the page joins the video too

    m4_room = (await stack.notify.get(f"/t/{video_link.group(1)}")).headers["location"]
    th_room = (await stack.notify.get(f"/t/{clinician_token.group(1)}")).headers["location"]
    assert m4_room == th_room
    assert m4_room.startswith("https://video.example/corespond-")

    async def joined() -> list[str] | None:
        view = await incident(stack.dispatch, incident_id)
        found = [e["summary"] for e in view["timeline"] if e["kind"] == "telehealth.joined"]
        return found or None

    # Only the clinician's join is news: the unit on scene was there already.
    [summary] = await eventually(joined, what="clinician joined on the timeline")
    assert "TH-1" in summary
