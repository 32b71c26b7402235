"""A call posted to dispatch is triaged, offered and texted, over a real broker and database."""

import time

from tests.support.flow import incident, submit, until_texted
from tests.support.inprocess import DEMO_CALL, InProcessStack


async def test_call_is_triaged_offered_and_texted(stack: InProcessStack) -> None:
    started = time.monotonic()
    response = await stack.dispatch.post("/v1/calls", json=DEMO_CALL)

    assert response.status_code == 202
    accepted = response.json()
    assert response.headers["location"] == f"/v1/incidents/{accepted['incident_id']}"
    assert accepted["status"] == "received"
    assert len(accepted["incident_code"]) == 4

    view = await until_texted(stack.dispatch, accepted["incident_id"])
    elapsed = time.monotonic() - started

    # Hearing voices, no weapons, nobody hurt: a clinician and no police.
    assert view["triage"]["response_model"] == "clinician"
    assert view["triage"]["roles"] == ["clinician"]
    assert "police" not in view["triage"]["roles"]
    assert view["triage"]["policy_version"].startswith("default-")
    assert view["triage"]["rationale"]
    [offer] = view["assignments"]
    assert offer["role"] == "clinician"
    assert offer["status"] == "offered"
    assert offer["eta_seconds"] is not None
    assert view["status"] == "dispatched"
    kinds = [entry["kind"] for entry in view["timeline"]]
    assert kinds[:3] == ["call.received", "call.triaged", "assignment.offered"]
    assert "notification.queued" in kinds
    assert "notification.sent" in kinds
    assert elapsed < 30  # a bound on the wait, not a performance target (that is `corespond bench`)

    messages = (await stack.notify.get("/v1/messages", params={"incident_id": view["id"]})).json()
    [sms] = messages
    assert sms["status"] == "sent"
    assert sms["console_recorded_at"] is not None
    assert view["code"] in sms["body"]
    assert f"Y {view['code']}" in sms["body"]
    assert "1437 Bannock St" in sms["body"]
    # Minimum necessary: nothing from the narrative reaches the text.
    for word in ("voices", "son", "weapons", "pacing"):
        assert word not in sms["body"].lower()


async def test_overdose_brings_emt_with_naloxone_and_a_clinician(stack: InProcessStack) -> None:
    call = {
        **DEMO_CALL,
        "narrative": "found my roommate nodding out, lips turning blue, he uses fentanyl",
        "answers": {"overdose_suspected": True, "conscious": False},
    }
    view = await until_texted(stack.dispatch, await submit(stack.dispatch, call))

    assert view["triage"]["priority"] == 1
    assert set(view["triage"]["roles"]) == {"emt", "clinician"}
    assert "naloxone" in view["triage"]["flags"]
    assert {a["role"] for a in view["assignments"]} == {"emt", "clinician"}
    assert len({a["unit_id"] for a in view["assignments"]}) == 2
    assert len(view["notifications"]) == 2


async def test_incident_list_shows_the_call(stack: InProcessStack) -> None:
    incident_id = await submit(stack.dispatch)
    await until_texted(stack.dispatch, incident_id)
    listed = (await stack.dispatch.get("/v1/incidents")).json()
    assert [i["id"] for i in listed] == [incident_id]
    assert (
        listed[0]["priority"] == (await incident(stack.dispatch, incident_id))["triage"]["priority"]
    )
