"""A weapons call gets two police units when the policy asks for cover (issue 16, item 6).

With ``cover: {weapons: {police: 2}}`` a P1 gun call offers two officers at once;
one accepting leaves the other offer standing (the role reads "offered", not
"filled") until a second accepts; a decline brings the next officer for the
slot still open. Real broker, SQLite and PostgreSQL.
"""

import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio
import yaml

from services.cli.stack import Tansu
from services.common.policy_files import DEFAULT_POLICY_DIR
from tests.support.databases import DatabaseTarget
from tests.support.flow import incident, submit
from tests.support.inprocess import DEMO_CALL, InProcessStack
from tests.support.waiting import eventually

DENVER = (39.7392, -104.9903)
ROSTER = [
    {
        "call_sign": call_sign,
        "agency": "DPD",
        "roles": [role],
        "phone": f"+172055506{n:02d}",
        "lat": DENVER[0] + offset,
        "lon": DENVER[1],
    }
    for n, (call_sign, role, offset) in enumerate(
        [
            ("1A21", "police", 0.002),
            ("1A22", "police", 0.004),
            ("1A23", "police", 0.006),
            ("M4", "emt", 0.003),
            ("STAR-1", "clinician", 0.003),
        ]
    )
]
ARMED = {
    **DEMO_CALL,
    "narrative": "man with a gun in the yard, his brother is unconscious and bleeding",
    "answers": {**DEMO_CALL["answers"], "weapons": True, "conscious": False, "injury": True},
}


@pytest_asyncio.fixture
async def stack(
    broker: Tansu, database: DatabaseTarget, tmp_path: Path
) -> AsyncIterator[InProcessStack]:
    policies = tmp_path / "policies"
    shutil.copytree(DEFAULT_POLICY_DIR, policies)
    default = yaml.safe_load((policies / "default.yaml").read_text())
    default["dispatch"]["cover"] = {"weapons": {"police": 2}}
    (policies / "default.yaml").write_text(yaml.safe_dump(default))
    roster = tmp_path / "roster.json"
    roster.write_text(json.dumps(ROSTER))
    async with InProcessStack(
        broker.bootstrap,
        database,
        tmp_path,
        roster=roster,
        overrides={"dispatch": {"policy_dir": policies}},
    ) as running:
        yield running


async def _police(stack: InProcessStack, incident_id: str, count: int) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        view = await incident(stack.dispatch, incident_id)
        police = [a for a in view["assignments"] if a["role"] == "police"]
        planned = [e for e in view["recommendation"] if e["role"] == "police"]
        # Both: on PostgreSQL the view's reads are separate statements, and one may
        # land before the plan's commit and the next after it.
        return view if len(police) == count and planned else None

    return await eventually(probe, what=f"{count} police assignments")


async def _answer(stack: InProcessStack, assignment_id: str, status: str) -> None:
    answered = await stack.dispatch.post(
        f"/v1/assignments/{assignment_id}/status", json={"status": status}
    )
    assert answered.status_code == 200, answered.text


async def test_a_gun_call_gets_two_officers_and_reads_short_until_both_accept(
    stack: InProcessStack,
) -> None:
    incident_id = await submit(stack.dispatch, ARMED)
    view = await _police(stack, incident_id, 2)
    police = next(e for e in view["recommendation"] if e["role"] == "police")
    assert police["needed"] == 2
    assert (police["call_sign"], [c["call_sign"] for c in police["cover_units"]]) == (
        "1A21",
        ["1A22"],
    )
    first, second = sorted(
        (a for a in view["assignments"] if a["role"] == "police"), key=lambda a: a["call_sign"]
    )
    assert (first["call_sign"], second["call_sign"]) == ("1A21", "1A22")
    state = next(r for r in view["roles"] if r["role"] == "police")
    assert (state["state"], state["needed"]) == ("offered", 2)

    # One yes is not cover: the other offer stands.
    await _answer(stack, first["id"], "accepted")
    view = await incident(stack.dispatch, incident_id)
    statuses = {a["call_sign"]: a["status"] for a in view["assignments"] if a["role"] == "police"}
    assert statuses == {"1A21": "accepted", "1A22": "offered"}

    # A no brings the next officer, for the one slot still open.
    await _answer(stack, second["id"], "declined")
    view = await _police(stack, incident_id, 3)
    statuses = {a["call_sign"]: a["status"] for a in view["assignments"] if a["role"] == "police"}
    assert statuses == {"1A21": "accepted", "1A22": "declined", "1A23": "offered"}
    third = next(a for a in view["assignments"] if a["call_sign"] == "1A23")
    await _answer(stack, third["id"], "accepted")
    view = await incident(stack.dispatch, incident_id)
    state = next(r for r in view["roles"] if r["role"] == "police")
    assert (state["state"], state["call_signs"]) == ("filled", ["1A21", "1A23"])
    assert "police" not in view["unfilled_roles"]
