"""The real twilio client against a local fake of Twilio; signed webhooks into notify.

Offer → SMS through the Twilio REST API (fake) → signed status callbacks →
delivered on the timeline; a signed inbound "Y <code>" accepts; a bad
signature is refused and changes nothing; a retried webhook is a no-op; a
number Twilio refuses (21610) or cannot reach (30003) escalates the offer.
"""

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio
from twilio.rest import Client

from services.cli.stack import Tansu
from tests.support.databases import DatabaseTarget
from tests.support.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio, signed_post
from tests.support.flow import incident, submit
from tests.support.inprocess import DEMO_CALL, InProcessStack
from tests.support.waiting import eventually

PUBLIC = "https://corespond.example.org"
PHONES = {"STAR-1": "+17205550501", "STAR-2": "+17205550502", "STAR-3": "+17205550503"}
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
async def twilio(
    broker: Tansu, database: DatabaseTarget, tmp_path: Path
) -> AsyncIterator[tuple[InProcessStack, FakeTwilio]]:
    fake = FakeTwilio(refuse={PHONES["STAR-2"]: 21610}, undeliverable={PHONES["STAR-3"]: 30003})
    fake.start()
    roster = tmp_path / "roster.json"
    roster.write_text(json.dumps(ROSTER))
    notify = fake.notify_settings(public_base_url=PUBLIC)
    stack = InProcessStack(
        broker.bootstrap, database, tmp_path, roster=roster, overrides={"notify": notify}
    )
    try:
        async with stack:
            yield stack, fake
    finally:
        fake.stop()


async def _until(stack: InProcessStack, incident_id: str, probe: Any, what: str) -> Any:
    async def check() -> Any:
        return probe(await incident(stack.dispatch, incident_id))

    return await eventually(check, what=what)


def _status(view: dict[str, Any], call_sign: str) -> str | None:
    found = [a["status"] for a in view["assignments"] if a["call_sign"] == call_sign]
    return found[-1] if found else None


async def test_offer_goes_through_twilio_and_a_signed_y_code_accepts(
    twilio: tuple[InProcessStack, FakeTwilio],
) -> None:
    stack, fake = twilio
    incident_id = await submit(stack.dispatch, DEMO_CALL)
    await eventually(lambda: fake.messages, what="the Messages API called")
    [sent] = fake.messages
    assert sent["To"] == PHONES["STAR-1"]
    assert sent["From"] == "+17205550000"
    assert sent["StatusCallback"] == f"{PUBLIC}/twilio/sms/status"
    # The fake answers fetch as Twilio does, for the real client.
    client = Client(ACCOUNT_SID, AUTH_TOKEN)
    client.api.base_url = fake.base_url
    fetched = await asyncio.to_thread(lambda: client.messages(sent["sid"]).fetch())
    assert fetched.to == PHONES["STAR-1"]

    assert await fake.deliver_callbacks(stack.notify) == [204, 204]
    view = await _until(
        stack,
        incident_id,
        lambda v: v if any(n["status"] == "delivered" for n in v["notifications"]) else None,
        "delivered on the incident",
    )
    assert "notification.delivered" in [e["kind"] for e in view["timeline"]]
    assert _status(view, "STAR-1") == "offered"  # delivered is not accepted

    code = view["code"]
    inbound = {"MessageSid": "SMin0001", "From": PHONES["STAR-1"], "Body": f"Y {code}"}
    url = f"{PUBLIC}/twilio/sms/inbound"
    answer = await signed_post(url, inbound, client=stack.notify, path="/twilio/sms/inbound")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/xml")
    assert f"accept for #{code}" in answer.text
    assert "<Response><Message>" in answer.text
    await _until(stack, incident_id, lambda v: _status(v, "STAR-1") == "accepted", "accepted")

    # Twilio retries the same webhook: same answer, nothing new.
    again = await signed_post(url, inbound, client=stack.notify, path="/twilio/sms/inbound")
    assert again.text == answer.text
    view = await incident(stack.dispatch, incident_id)
    assert [e["kind"] for e in view["timeline"]].count("assignment.accepted") == 1
    # Duplicate status callbacks change nothing either.
    replay = {"MessageSid": sent["sid"], "MessageStatus": "sent", "To": sent["To"]}
    status_url = f"{PUBLIC}/twilio/sms/status"
    late = await signed_post(status_url, replay, client=stack.notify, path="/twilio/sms/status")
    assert late.status_code == 204
    messages = (await stack.notify.get("/v1/messages", params={"incident_id": incident_id})).json()
    assert [m["status"] for m in messages] == ["delivered"]


async def test_a_retried_webhook_gets_its_first_answer_whatever_it_carries(
    twilio: tuple[InProcessStack, FakeTwilio],
) -> None:
    stack, fake = twilio
    incident_id = await submit(stack.dispatch, DEMO_CALL)
    await eventually(lambda: fake.messages, what="the offer SMS")
    code = (await incident(stack.dispatch, incident_id))["code"]
    url = f"{PUBLIC}/twilio/sms/inbound"
    first = await signed_post(
        url,
        {"MessageSid": "SMin0101", "From": PHONES["STAR-1"], "Body": f"Y {code}"},
        client=stack.notify,
        path="/twilio/sms/inbound",
        idempotency_token="idem-0101",
    )
    await _until(stack, incident_id, lambda v: _status(v, "STAR-1") == "accepted", "accepted")
    # Same token, different content: Twilio's retry key wins, nothing is read again.
    retried = await signed_post(
        url,
        {"MessageSid": "SMin0102", "From": PHONES["STAR-1"], "Body": f"DONE {code}"},
        client=stack.notify,
        path="/twilio/sms/inbound",
        idempotency_token="idem-0101",
    )
    assert retried.text == first.text
    # Without the token the same words are a new message: proof the token did the work.
    fresh = await signed_post(
        url,
        {"MessageSid": "SMin0103", "From": PHONES["STAR-1"], "Body": "HELP"},
        client=stack.notify,
        path="/twilio/sms/inbound",
    )
    assert "STOP to stop messages" in fresh.text
    await asyncio.sleep(0.5)  # time for a wrongly applied DONE to reach dispatch
    assert _status(await incident(stack.dispatch, incident_id), "STAR-1") == "accepted"


async def test_a_bad_signature_is_refused_and_changes_nothing(
    twilio: tuple[InProcessStack, FakeTwilio],
) -> None:
    stack, fake = twilio
    incident_id = await submit(stack.dispatch, DEMO_CALL)
    await eventually(lambda: fake.messages, what="the offer SMS")
    code = (await incident(stack.dispatch, incident_id))["code"]
    inbound = {"MessageSid": "SMin0002", "From": PHONES["STAR-1"], "Body": f"Y {code}"}
    forged = await signed_post(
        f"{PUBLIC}/twilio/sms/inbound",
        inbound,
        token="not-the-auth-token",
        client=stack.notify,
        path="/twilio/sms/inbound",
    )
    assert forged.status_code == 403
    unsigned = await stack.notify.post("/twilio/sms/inbound", data=inbound)
    assert unsigned.status_code == 403
    # Signed for another URL (a replay against a different host) is refused too.
    elsewhere = await signed_post(
        "https://evil.example/twilio/sms/inbound",
        inbound,
        client=stack.notify,
        path="/twilio/sms/inbound",
    )
    assert elsewhere.status_code == 403
    view = await incident(stack.dispatch, incident_id)
    assert _status(view, "STAR-1") == "offered"


async def test_refused_and_undeliverable_numbers_escalate_the_offer(
    twilio: tuple[InProcessStack, FakeTwilio],
) -> None:
    stack, fake = twilio
    units = {u["call_sign"]: u for u in (await stack.dispatch.get("/v1/units")).json()}
    await stack.dispatch.post(
        f"/v1/units/{units['STAR-1']['id']}/status", json={"status": "off_duty"}
    )
    incident_id = await submit(stack.dispatch, DEMO_CALL)
    # STAR-2's number is unsubscribed at Twilio (21610): failed at once, declined.
    view = await _until(
        stack, incident_id, lambda v: v if _status(v, "STAR-2") == "declined" else None, "21610"
    )
    assert any("21610" in e["summary"] for e in view["timeline"])
    # The next step offers STAR-3, whose phone Twilio cannot reach (30003).
    await eventually(lambda: len(fake.messages) >= 1, what="STAR-3's SMS")
    await _until(stack, incident_id, lambda v: _status(v, "STAR-3") == "offered", "STAR-3")
    assert await fake.deliver_callbacks(stack.notify) == [204, 204]
    view = await _until(
        stack, incident_id, lambda v: v if _status(v, "STAR-3") == "declined" else None, "30003"
    )
    assert any("undelivered (30003)" in e["summary"] for e in view["timeline"])
