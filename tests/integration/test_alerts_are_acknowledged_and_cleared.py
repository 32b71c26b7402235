"""A dispatcher acknowledges an alert (who, when, once), and it leaves the open list by
itself when its condition ends: the role gets a unit, the incident closes.

Real broker, SQLite and PostgreSQL. No units and no providers at first, so the call's
roles (an EMT with a telehealth clinician, as no clinician can come) are unfilled and a
warm handoff cannot be placed: each alerts at once.
"""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio

from services.cli.stack import Tansu
from tests.support.databases import DatabaseTarget
from tests.support.flow import incident, submit
from tests.support.inprocess import DEMO_CALL, InProcessStack, mint_token
from tests.support.waiting import eventually


def _as(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token([role], name=f'alerts-{role}')}"}


DISPATCHER = _as("dispatcher")
SUPERVISOR = _as("supervisor")


@pytest_asyncio.fixture
async def stack(broker: Tansu, database: DatabaseTarget, tmp_path: Path) -> AsyncIterator[Any]:
    async with InProcessStack(broker.bootstrap, database, tmp_path) as running:
        yield running


async def _open_alerts(stack: InProcessStack, incident_id: str) -> dict[str, dict[str, Any]]:
    """By kind, and by role for a role's alerts: ``role_unfilled emt``."""
    listed = (await stack.dispatch.get("/v1/alerts", headers=DISPATCHER)).json()
    return {_name(a): a for a in listed if a["incident_id"] == incident_id}


def _name(alert: dict[str, Any]) -> str:
    role = alert["summary"].split()[2] if alert["kind"] == "role_unfilled" else None
    return f"{alert['kind']} {role}" if role else str(alert["kind"])


async def _alerted(stack: InProcessStack, incident_id: str, *kinds: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        mine = await _open_alerts(stack, incident_id)
        return mine if set(kinds) <= set(mine) else None

    found: dict[str, Any] = await eventually(probe, what=f"alerts {kinds} for {incident_id}")
    return found


async def test_an_alert_is_acknowledged_once_by_a_dispatcher_or_supervisor(
    stack: InProcessStack,
) -> None:
    incident_id = await submit(stack.dispatch, DEMO_CALL)
    alert = (await _alerted(stack, incident_id, "role_unfilled emt"))["role_unfilled emt"]
    assert alert["acknowledged_by"] is None
    path = f"/v1/alerts/{alert['id']}/acknowledge"

    for role in ("call_taker", "unit", "program_manager", "auditor"):
        refused = await stack.dispatch.post(path, headers=_as(role))
        assert refused.status_code == 403, (role, refused.text)

    first = await stack.dispatch.post(path, headers=DISPATCHER)
    assert first.status_code == 200, first.text
    taken = first.json()
    assert taken["acknowledged_by"] == "alerts-dispatcher"
    assert taken["acknowledged_at"].endswith("Z")  # with its zone
    # Again, by someone else: nothing changes, the first acknowledgement stands.
    again = await stack.dispatch.post(path, headers=SUPERVISOR)
    assert again.status_code == 200, again.text
    assert again.json()["acknowledged_by"] == "alerts-dispatcher"
    assert again.json()["acknowledged_at"] == taken["acknowledged_at"]
    # Still listed while nobody fills the role, now with who has it in hand.
    listed = (await _open_alerts(stack, incident_id))["role_unfilled emt"]
    assert listed["acknowledged_by"] == "alerts-dispatcher"
    kinds = [e["kind"] for e in (await incident(stack.dispatch, incident_id))["timeline"]]
    assert kinds.count("alert.acknowledged") == 1

    # Audited like every action: who, on which alert, with its time zone.
    async def recorded() -> list[dict[str, Any]] | None:
        rows = (
            await stack.dispatch.get(
                "/v1/audit", params={"target_id": alert["id"]}, headers=_as("auditor")
            )
        ).json()
        mine = [r for r in rows if r["action"] == "POST /v1/alerts/{alert_id}/acknowledge"]
        return mine if len(mine) >= 6 else None  # four refusals, two acknowledgements

    trail = await eventually(recorded, what="the acknowledgements in the audit trail")
    taken_by = {(r["actor"], r["outcome"]) for r in trail}
    assert ("alerts-dispatcher", "200") in taken_by
    assert ("alerts-call_taker", "403") in taken_by
    assert all(r["target_type"] == "alert" and r["at"].endswith("Z") for r in trail)

    unknown = await stack.dispatch.post("/v1/alerts/no-such-alert/acknowledge", headers=DISPATCHER)
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"
    assert unknown.json()["type"] == "/problems/not-found"
    assert "no-such-alert" in unknown.json()["detail"]


async def test_alerts_clear_when_the_role_is_filled_and_when_the_incident_closes(
    stack: InProcessStack,
) -> None:
    incident_id = await submit(stack.dispatch, DEMO_CALL)
    await _alerted(stack, incident_id, "role_unfilled emt", "role_unfilled telehealth")
    asked = await stack.dispatch.post(
        f"/v1/incidents/{incident_id}/handoffs", json={"service": "detox"}
    )
    assert asked.status_code == 201, asked.text
    await _alerted(stack, incident_id, "role_unfilled emt", "handoff_unplaced")

    # An EMT comes on duty; the dispatcher sends it and it accepts: that role is filled.
    unit = await stack.dispatch.post(
        "/v1/units",
        json={
            "call_sign": "M9",
            "agency": "DFD",
            "roles": ["emt"],
            "phone": "+17205550919",
            "lat": 39.74,
            "lon": -104.99,
        },
    )
    assert unit.status_code == 201, unit.text
    sent = await stack.dispatch.post(
        f"/v1/incidents/{incident_id}/dispatch",
        json={"units": [{"role": "emt", "unit_id": unit.json()["id"]}]},
        headers=DISPATCHER,
    )
    assert sent.status_code == 200, sent.text
    [offer] = [a for a in (await incident(stack.dispatch, incident_id))["assignments"]]
    moved = await stack.dispatch.post(
        f"/v1/assignments/{offer['id']}/status", json={"status": "accepted"}, headers=DISPATCHER
    )
    assert moved.status_code == 200, moved.text
    assert set(await _open_alerts(stack, incident_id)) == {
        "role_unfilled telehealth",
        "handoff_unplaced",
    }

    closed = await stack.dispatch.post(
        f"/v1/incidents/{incident_id}/close",
        json={"disposition": "treated_on_scene"},
        headers=DISPATCHER,
    )
    assert closed.status_code == 200, closed.text
    assert await _open_alerts(stack, incident_id) == {}

    everything = (
        await stack.dispatch.get("/v1/alerts", params={"state": "all"}, headers=DISPATCHER)
    ).json()
    reasons = {_name(a): a["cleared_reason"] for a in everything if a["incident_id"] == incident_id}
    assert reasons == {
        "role_unfilled emt": "emt role filled",
        "role_unfilled telehealth": "incident closed",
        "handoff_unplaced": "incident closed",
    }
    timeline = (await incident(stack.dispatch, incident_id))["timeline"]
    assert [e["kind"] for e in timeline].count("alert.cleared") == 3
