"""Every assignment tracked to the end: decline and expiry escalate, accept withdraws, close frees.

Real broker, SQLite and PostgreSQL; dispatch runs on a clock the test moves, so
the policy's offer windows (300 s for priority 2) pass in an instant.
"""

import json
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

CLINICIANS = [
    {
        "call_sign": f"STAR-{n}",
        "agency": "STAR",
        "roles": ["clinician"],
        "phone": f"+1720555010{n}",
        "lat": 39.7392 + n * 0.002,
        "lon": -104.9903,
    }
    for n in range(1, 5)
]


@pytest_asyncio.fixture
async def clocked(
    broker: Tansu, database: DatabaseTarget, tmp_path: Path
) -> AsyncIterator[tuple[InProcessStack, ManualClock]]:
    roster = tmp_path / "roster.json"
    roster.write_text(json.dumps(CLINICIANS))
    clock = ManualClock()
    stack = InProcessStack(
        broker.bootstrap,
        database,
        tmp_path,
        roster=roster,
        dispatch_clock=clock,
        # The test fires timers itself; a long poll keeps the worker out of its way.
        overrides={"dispatch": {"timer_poll_interval_s": 3600}},
    )
    async with stack:
        yield stack, clock


def _timers(stack: InProcessStack) -> TimerWorker:
    timers: TimerWorker = stack.apps["dispatch"].state.timers
    return timers


async def _offers(stack: InProcessStack, incident_id: str, count: int) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        view = await incident(stack.dispatch, incident_id)
        live = [a for a in view["assignments"] if a["status"] == "offered"]
        return view if len(live) == count else None

    return await eventually(probe, what=f"{count} open offers on {incident_id}")


async def _step(stack: InProcessStack, assignment_id: str, status: str) -> Any:
    return await stack.dispatch.post(
        f"/v1/assignments/{assignment_id}/status", json={"status": status}
    )


async def test_decline_and_expiry_escalate_then_accept_withdraws_and_close_frees(
    clocked: tuple[InProcessStack, ManualClock],
) -> None:
    stack, clock = clocked
    incident_id = await submit(stack.dispatch, DEMO_CALL)  # P2 clinician: auto-offered
    view = await _offers(stack, incident_id, 1)
    [first] = view["assignments"]
    assert first["call_sign"] == "STAR-1"  # nearest
    assert first["expires_at"] is not None

    # Declined: the policy's second P2 step offers the next two at once.
    assert (await _step(stack, first["id"], "declined")).status_code == 200
    view = await _offers(stack, incident_id, 2)
    second = sorted(a["call_sign"] for a in view["assignments"] if a["status"] == "offered")
    assert second == ["STAR-2", "STAR-3"]
    star1 = (await stack.dispatch.get(f"/v1/units/{first['unit_id']}")).json()
    assert star1["current_assignment_id"] is None  # freed by the decline

    # Nobody answers within 300 s: both expire; the repeat loop asks units that
    # did not answer (never the one that declined), nearest first.
    clock.advance(301)
    assert await _timers(stack).fire_due() == 2
    view = await _offers(stack, incident_id, 1)
    [third] = [a for a in view["assignments"] if a["status"] == "offered"]
    assert third["call_sign"] == "STAR-2"
    statuses = sorted(a["status"] for a in view["assignments"])
    assert statuses == ["declined", "expired", "expired", "offered"]

    # Accepted, en route, on scene: each step on the timeline with who and when.
    for status in ("accepted", "en_route", "on_scene"):
        assert (await _step(stack, third["id"], status)).status_code == 200
    unit = (await stack.dispatch.get(f"/v1/units/{third['unit_id']}")).json()
    assert unit["status"] == "on_scene"
    assert unit["current_incident_id"] == incident_id

    # An illegal step is refused, naming both states.
    refused = await _step(stack, third["id"], "offered")
    assert refused.status_code == 409
    assert "on_scene" in refused.json()["detail"]

    # Closing needs a disposition, and frees the unit.
    bad = await stack.dispatch.post(f"/v1/incidents/{incident_id}/close", json={})
    assert bad.status_code == 422
    assert "disposition" in bad.text
    closed = await stack.dispatch.post(
        f"/v1/incidents/{incident_id}/close",
        json={"disposition": "deflected_to_treatment", "note": "walked to crisis center"},
    )
    assert closed.status_code == 200
    view = closed.json()
    assert view["status"] == "closed"
    assert view["disposition"] == "deflected_to_treatment"
    assert next(a for a in view["assignments"] if a["id"] == third["id"])["status"] == "cleared"
    unit = (await stack.dispatch.get(f"/v1/units/{third['unit_id']}")).json()
    assert unit["current_assignment_id"] is None
    assert unit["status"] == "available"
    kinds = [e["kind"] for e in view["timeline"]]
    for kind in (
        "assignment.declined",
        "assignment.expired",
        "assignment.accepted",
        "assignment.en_route",
        "assignment.on_scene",
        "assignment.cleared",  # on scene when the incident closed: its work is done
        "incident.closed",
    ):
        assert kind in kinds
    assert all(e["actor"] for e in view["timeline"])


async def test_when_candidates_run_out_supervisors_are_alerted(
    clocked: tuple[InProcessStack, ManualClock],
) -> None:
    stack, _clock = clocked
    incident_id = await submit(stack.dispatch, DEMO_CALL)
    view = await _offers(stack, incident_id, 1)
    for _unit in CLINICIANS:  # everyone else declines as they are asked
        live = [a for a in view["assignments"] if a["status"] == "offered"]
        for offer in live:
            await _step(stack, offer["id"], "declined")
        view = await incident(stack.dispatch, incident_id)
        if view["status"] == "unassigned":
            break
    assert view["status"] == "unassigned"
    alerts = (await stack.dispatch.get("/v1/alerts")).json()
    [alert] = [a for a in alerts if a["incident_id"] == incident_id]
    assert alert["kind"] == "role_unfilled"
    assert "supervisor" in alert["audience"]
    assert sum(a["status"] == "declined" for a in view["assignments"]) == len(CLINICIANS)

    async def paged() -> list[dict[str, Any]] | None:
        params = {"incident_id": incident_id}
        sent = (await stack.notify.get("/v1/messages", params=params)).json()
        return [m for m in sent if m["to_masked"] == "+1720***0199"] or None

    [sms] = await eventually(paged, what="the supervisor paged by SMS")
    assert sms["body"].startswith(f"corespond ALERT #{view['code']}: nobody accepted")
    # Minimum necessary: no unit, no person, nothing clinical.
    assert "STAR" not in sms["body"]


async def test_offer_timers_survive_a_dispatch_restart(
    clocked: tuple[InProcessStack, ManualClock],
) -> None:
    stack, clock = clocked
    incident_id = await submit(stack.dispatch, DEMO_CALL)
    [offer] = (await _offers(stack, incident_id, 1))["assignments"]
    await stack.stop("dispatch")
    clock.advance(400)  # the window passes while dispatch is down
    await stack.start("dispatch")
    # The worker's first tick on start may already have fired it; either way exactly
    # one expiry happens and the offer moves on to the next clinician.
    await _timers(stack).fire_due()
    view = await _offers(stack, incident_id, 2)
    assert next(a for a in view["assignments"] if a["id"] == offer["id"])["status"] == "expired"
    assert sum(a["status"] == "expired" for a in view["assignments"]) == 1


async def test_after_an_overdose_a_follow_up_visit_opens_and_the_team_is_reminded(
    clocked: tuple[InProcessStack, ManualClock],
) -> None:
    stack, clock = clocked
    overdose = {
        **DEMO_CALL,
        "narrative": "friend nodding out, lips blue, used fentanyl",
        "answers": {},
    }
    incident_id = await submit(stack.dispatch, overdose)
    await _offers(stack, incident_id, 1)
    closed = await stack.dispatch.post(
        f"/v1/incidents/{incident_id}/close", json={"disposition": "transported"}
    )
    assert "follow_up.scheduled" in [e["kind"] for e in closed.json()["timeline"]]

    clock.advance(47 * 3600)
    assert await _timers(stack).fire_due() == 0  # not yet: the policy says 48 h
    clock.advance(3600 + 1)
    assert await _timers(stack).fire_due() == 1

    async def visit() -> dict[str, Any] | None:
        listed = (await stack.dispatch.get("/v1/incidents")).json()
        found = [i for i in listed if i["id"] != incident_id and i["priority"] is not None]
        return found[0] if found else None

    summary = await eventually(visit, what="the follow-up incident, triaged")
    view = await incident(stack.dispatch, summary["id"])
    assert view["source"] == "follow_up"
    assert view["triage"]["roles"] == ["clinician"]
    assert view["triage"]["priority"] == 3
    assert view["location"]["address"] == DEMO_CALL["location"]["address"]

    async def reminder() -> list[dict[str, Any]] | None:
        params = {"incident_id": summary["id"]}
        sent = (await stack.notify.get("/v1/messages", params=params)).json()
        return [m for m in sent if m["to_masked"] == "+1720***0190"] or None

    [sms] = await eventually(reminder, what="the outreach team's reminder")
    assert f"#{view['code']}" in sms["body"]
    assert "1437 Bannock St" in sms["body"]
