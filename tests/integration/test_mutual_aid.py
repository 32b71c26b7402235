"""A Denver call gets a Denver unit; a Park County unit only as mutual aid, flagged (issue 16).

The roster names each agency's service area (jurisdiction, and for Denver a
GeoJSON polygon). A Park County deputy parked nearer the call than any Denver
officer is not offered while a Denver officer is within the policy's maximum
ETA; with none, the deputy is offered as mutual aid, and the recommendation,
the offer and the incident say so. Real broker, SQLite and PostgreSQL.
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

DENVER = (39.7392, -104.9903)
FAIRPLAY = (39.2247, -105.9989)
DENVER_POLYGON = {
    "type": "Polygon",
    "coordinates": [
        [[-105.11, 39.61], [-104.6, 39.61], [-104.6, 39.91], [-105.11, 39.91], [-105.11, 39.61]]
    ],
}


def _unit(n: int, call_sign: str, role: str, at: tuple[float, float]) -> dict[str, Any]:
    return {
        "call_sign": call_sign,
        "agency": call_sign.split("-")[0] if "-" in call_sign else "DPD",
        "roles": [role],
        "phone": f"+172055505{n:02d}",
        "lat": at[0],
        "lon": at[1],
    }


ROSTER = {
    "agencies": {
        "DPD": {"jurisdiction": "default", "service_area": DENVER_POLYGON},
        "PCSO": {"jurisdiction": "rural"},
    },
    "units": [
        _unit(1, "1A21", "police", (DENVER[0] - 0.010, DENVER[1])),  # ~1 km away
        # A Park County deputy back from court, parked a block from the call.
        _unit(2, "PCSO-2", "police", (DENVER[0] + 0.001, DENVER[1])),
        _unit(3, "PCSO-1", "police", (FAIRPLAY[0] + 0.01, FAIRPLAY[1])),
        _unit(4, "M4", "emt", (DENVER[0] + 0.010, DENVER[1])),
        _unit(5, "STAR-1", "clinician", (DENVER[0] + 0.002, DENVER[1])),
    ],
}
ARMED = {
    **DEMO_CALL,
    "narrative": "man with a gun in the yard, his brother is unconscious and bleeding",
    "answers": {**DEMO_CALL["answers"], "weapons": True, "conscious": False, "injury": True},
}


@pytest_asyncio.fixture
async def stack(
    broker: Tansu, database: DatabaseTarget, tmp_path: Path
) -> AsyncIterator[InProcessStack]:
    roster = tmp_path / "roster.json"
    roster.write_text(json.dumps(ROSTER))
    async with InProcessStack(broker.bootstrap, database, tmp_path, roster=roster) as running:
        yield running


async def _units(stack: InProcessStack) -> dict[str, dict[str, Any]]:
    return {u["call_sign"]: u for u in (await stack.dispatch.get("/v1/units")).json()}


async def _police_offer(stack: InProcessStack, incident_id: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        view = await incident(stack.dispatch, incident_id)
        police = [a for a in view["assignments"] if a["role"] == "police"]
        planned = [e for e in view["recommendation"] if e["role"] == "police"]
        # Both: on PostgreSQL the view's reads are separate statements, and one may
        # land before the plan's commit and the next after it.
        return view if police and planned else None

    return await eventually(probe, what="a police offer")


async def test_a_denver_call_gets_the_denver_officer_not_the_nearer_park_county_deputy(
    stack: InProcessStack,
) -> None:
    units = await _units(stack)
    assert units["1A21"]["jurisdiction"] == "default"
    assert units["1A21"]["service_area"] == DENVER_POLYGON
    assert units["PCSO-2"]["jurisdiction"] == "rural"
    assert units["PCSO-2"]["service_area"] is None

    view = await _police_offer(stack, await submit(stack.dispatch, ARMED))
    [offer] = [a for a in view["assignments"] if a["role"] == "police"]
    assert offer["call_sign"] == "1A21"
    assert offer["mutual_aid"] is False
    police = next(e for e in view["recommendation"] if e["role"] == "police")
    assert (police["call_sign"], police["mutual_aid"]) == ("1A21", False)
    deputy = next(a for a in police["alternatives"] if a["call_sign"] == "PCSO-2")
    assert deputy["mutual_aid"] is True
    assert view["mutual_aid"] == []


async def test_with_no_denver_officer_free_the_deputy_comes_as_mutual_aid_and_it_shows(
    stack: InProcessStack,
) -> None:
    units = await _units(stack)
    off = await stack.dispatch.post(
        f"/v1/units/{units['1A21']['id']}/status", json={"status": "off_duty"}
    )
    assert off.status_code == 200, off.text

    view = await _police_offer(stack, await submit(stack.dispatch, ARMED))
    [offer] = [a for a in view["assignments"] if a["role"] == "police"]
    assert offer["call_sign"] == "PCSO-2"  # not PCSO-1: that one is far, as ever
    assert offer["mutual_aid"] is True
    assert any(r.startswith("mutual aid: PCSO serves rural") for r in offer["reasons"])
    police = next(e for e in view["recommendation"] if e["role"] == "police")
    assert (police["call_sign"], police["mutual_aid"]) == ("PCSO-2", True)
    assert any(n.startswith("mutual aid: no home-area unit") for n in police["notes"])
    assert view["mutual_aid"] == ["PCSO-2"]
    assert any("(mutual aid)" in t["summary"] for t in view["timeline"])


async def test_a_service_area_that_is_not_a_polygon_is_refused_naming_the_field(
    stack: InProcessStack,
) -> None:
    units = await _units(stack)
    bad = await stack.dispatch.patch(
        f"/v1/units/{units['PCSO-2']['id']}",
        json={"service_area": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 1]]]}},
    )
    assert bad.status_code == 422, bad.text
    assert "service_area" in bad.text
    assert "four positions" in bad.text
    moved = await stack.dispatch.patch(
        f"/v1/units/{units['PCSO-2']['id']}", json={"jurisdiction": "default"}
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["jurisdiction"] == "default"
