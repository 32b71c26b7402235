"""What a dispatcher meets: the recommendation, confirm or override, telehealth fallback,
a pinned location, and the well-being alert after repeated critical incidents.
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

SCENE = (39.7392, -104.9903)
ROSTER = [
    # Near clinicians, one closer than the other.
    {
        "call_sign": "STAR-1",
        "agency": "STAR",
        "roles": ["clinician"],
        "phone": "+17205550301",
        "lat": SCENE[0] + 0.002,
        "lon": SCENE[1],
    },
    {
        "call_sign": "STAR-2",
        "agency": "STAR",
        "roles": ["clinician"],
        "phone": "+17205550302",
        "lat": SCENE[0] + 0.004,
        "lon": SCENE[1],
    },
    # Far out east: a clinician more than 20 minutes away.
    {
        "call_sign": "STAR-FAR",
        "agency": "STAR",
        "roles": ["clinician"],
        "phone": "+17205550303",
        "lat": 39.74,
        "lon": -104.50,
    },
    {
        "call_sign": "M4",
        "agency": "DFD",
        "roles": ["emt"],
        "phone": "+17205550304",
        "lat": SCENE[0] + 0.01,
        "lon": SCENE[1],
    },
    {
        "call_sign": "E18",
        "agency": "DFD",
        "roles": ["emt"],
        "phone": "+17205550305",
        "capabilities": ["telehealth_tablet"],
        "lat": SCENE[0] + 0.012,
        "lon": SCENE[1],
    },
    {"call_sign": "TH-1", "agency": "TeleCrisis", "roles": ["telehealth"], "phone": "+17205550306"},
    {
        "call_sign": "1A21",
        "agency": "DPD",
        "roles": ["police"],
        "phone": "+17205550307",
        "lat": SCENE[0] - 0.003,
        "lon": SCENE[1],
    },
]
NON_URGENT = {**DEMO_CALL, "narrative": "asking where to get detox for her son, son home and safe"}


@pytest_asyncio.fixture
async def desk(
    broker: Tansu, database: DatabaseTarget, tmp_path: Path
) -> AsyncIterator[InProcessStack]:
    roster = tmp_path / "roster.json"
    roster.write_text(json.dumps(ROSTER))
    async with InProcessStack(broker.bootstrap, database, tmp_path, roster=roster) as stack:
        yield stack


async def _until(stack: InProcessStack, incident_id: str, status: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        view = await incident(stack.dispatch, incident_id)
        return view if view["status"] == status else None

    return await eventually(probe, what=f"incident {status}")


async def test_non_urgent_waits_and_an_override_needs_and_keeps_its_reason(
    desk: InProcessStack,
) -> None:
    incident_id = await submit(desk.dispatch, NON_URGENT)
    view = await _until(desk, incident_id, "awaiting_dispatch")
    assert view["assignments"] == []
    [entry] = view["recommendation"]
    assert (entry["role"], entry["call_sign"]) == ("clinician", "STAR-1")
    assert any(r.startswith("ETA") for r in entry["reasons"])
    assert entry["alternatives"][0]["call_sign"] == "STAR-2"
    star2 = entry["alternatives"][0]["unit_id"]

    order: dict[str, Any] = {"units": [{"role": "clinician", "unit_id": star2}]}
    refused = await desk.dispatch.post(f"/v1/incidents/{incident_id}/dispatch", json=order)
    assert refused.status_code == 422
    assert "override_reason" in refused.json()["detail"]
    assert (await incident(desk.dispatch, incident_id))["assignments"] == []

    order["override_reason"] = "STAR-2 knows the family"
    sent = await desk.dispatch.post(f"/v1/incidents/{incident_id}/dispatch", json=order)
    assert sent.status_code == 200, sent.text
    view = sent.json()
    [offer] = view["assignments"]
    assert offer["call_sign"] == "STAR-2"
    assert offer["override_reason"] == "STAR-2 knows the family"
    assert offer["updated_by"] == "test-admin"
    assert view["status"] == "dispatched"


async def test_confirming_the_recommendation_needs_no_reason(desk: InProcessStack) -> None:
    incident_id = await submit(desk.dispatch, NON_URGENT)
    [entry] = (await _until(desk, incident_id, "awaiting_dispatch"))["recommendation"]
    order = {"units": [{"role": "clinician", "unit_id": entry["unit_id"]}]}
    sent = await desk.dispatch.post(f"/v1/incidents/{incident_id}/dispatch", json=order)
    assert sent.status_code == 200, sent.text
    assert sent.json()["assignments"][0]["override_reason"] is None


async def test_a_clinician_too_far_away_is_replaced_by_telehealth_with_a_tablet_on_scene(
    desk: InProcessStack,
) -> None:
    for unit in ("STAR-1", "STAR-2"):  # the near clinicians go off duty
        [u] = [x for x in (await desk.dispatch.get("/v1/units")).json() if x["call_sign"] == unit]
        await desk.dispatch.post(f"/v1/units/{u['id']}/status", json={"status": "off_duty"})
    incident_id = await submit(desk.dispatch, DEMO_CALL)  # P2 clinician, auto-offered
    view = await _until(desk, incident_id, "dispatched")
    roles = sorted(e["role"] for e in view["recommendation"])
    assert roles == ["emt", "telehealth"]
    telehealth = next(e for e in view["recommendation"] if e["role"] == "telehealth")
    assert any(
        "STAR-FAR" in note and "policy maximum 20 min" in note for note in telehealth["notes"]
    )
    offered = {a["role"]: a["call_sign"] for a in view["assignments"]}
    assert offered == {"telehealth": "TH-1", "emt": "E18"}  # the one carrying a tablet
    assert "recommendation.telehealth_fallback" in [e["kind"] for e in view["timeline"]]


async def test_a_dispatcher_pin_is_used_and_the_reported_address_kept(
    desk: InProcessStack,
) -> None:
    incident_id = await submit(desk.dispatch, NON_URGENT)
    before = await _until(desk, incident_id, "awaiting_dispatch")
    assert before["location_used"] == "geocoded"
    pinned = await desk.dispatch.put(
        f"/v1/incidents/{incident_id}/pin", json={"lat": SCENE[0] + 0.0041, "lon": SCENE[1]}
    )
    assert pinned.status_code == 200
    assert "location.pinned" in [e["kind"] for e in pinned.json()["timeline"]]
    places = pinned.json()
    assert places["location_used"] == "pin"
    assert places["locations"]["reported"]["address"] == "1437 Bannock St"  # kept
    assert places["locations"]["geocoded"]["lat"] == SCENE[0]  # not overwritten
    # The pin sits on STAR-2: a fresh offer now prefers it.
    entry = (await desk.dispatch.get(f"/v1/incidents/{incident_id}")).json()["recommendation"][0]
    order = {
        "units": [{"role": "clinician", "unit_id": entry["alternatives"][0]["unit_id"]}],
        "override_reason": "closer to the pin",
    }
    view = (await desk.dispatch.post(f"/v1/incidents/{incident_id}/dispatch", json=order)).json()
    assert view["assignments"][0]["eta_seconds"] < 30


async def test_repeated_critical_incidents_alert_a_supervisor(desk: InProcessStack) -> None:
    violent = {
        **DEMO_CALL,
        "narrative": "hearing voices and punching people in the street",
        "answers": {},
    }
    units = {u["call_sign"]: u for u in (await desk.dispatch.get("/v1/units")).json()}
    star1 = units["STAR-1"]
    # Otherwise exposure spreading would hand the second call to STAR-2, as it should.
    await desk.dispatch.post(
        f"/v1/units/{units['STAR-2']['id']}/status", json={"status": "off_duty"}
    )
    for _ in range(3):  # the policy threshold
        incident_id = await submit(desk.dispatch, violent)
        view = await _until(desk, incident_id, "dispatched")
        mine = next(a for a in view["assignments"] if a["unit_id"] == star1["id"])
        for step in ("accepted", "on_scene", "cleared"):
            moved = await desk.dispatch.post(
                f"/v1/assignments/{mine['id']}/status", json={"status": step}
            )
            assert moved.status_code == 200, moved.text
        closed = await desk.dispatch.post(
            f"/v1/incidents/{incident_id}/close", json={"disposition": "arrest"}
        )
        assert closed.status_code == 200, closed.text
    alerts = (await desk.dispatch.get("/v1/alerts")).json()
    wellbeing = [a for a in alerts if a["kind"] == "wellbeing"]
    assert [a["unit_id"] for a in wellbeing] == [star1["id"]]
    assert "3 critical incidents" in wellbeing[0]["summary"]
