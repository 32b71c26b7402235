"""A caller's language reaches the ranking: among equally near units, the one that speaks it
is recommended and offered, and the reasons say so (issue 16, item 9).

Real broker, SQLite and PostgreSQL; the roster is seeded, units are managed through the API.
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
    # Both within the same two-minute ETA band; STAR-1 is a little nearer.
    {
        "call_sign": "STAR-1",
        "agency": "STAR",
        "roles": ["clinician"],
        "languages": ["en"],
        "phone": "+17205550801",
        "lat": SCENE[0] + 0.001,
        "lon": SCENE[1],
    },
    {
        "call_sign": "STAR-2",
        "agency": "STAR",
        "roles": ["clinician"],
        "languages": ["en", "es"],
        "phone": "+17205550802",
        "lat": SCENE[0] + 0.002,
        "lon": SCENE[1],
    },
]


@pytest_asyncio.fixture
async def desk(
    broker: Tansu, database: DatabaseTarget, tmp_path: Path
) -> AsyncIterator[InProcessStack]:
    roster = tmp_path / "roster.json"
    roster.write_text(json.dumps(ROSTER))
    async with InProcessStack(broker.bootstrap, database, tmp_path, roster=roster) as stack:
        yield stack


async def _offered(stack: InProcessStack, incident_id: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        view = await incident(stack.dispatch, incident_id)
        return view if view["assignments"] else None

    return await eventually(probe, what="an offer")


async def test_a_spanish_speaking_caller_gets_the_spanish_speaking_unit_among_equals(
    desk: InProcessStack,
) -> None:
    incident_id = await submit(desk.dispatch, {**DEMO_CALL, "language": "es-MX"})
    view = await _offered(desk, incident_id)

    assert view["language"] == "es-MX"
    [entry] = [e for e in view["recommendation"] if e["role"] == "clinician"]
    assert entry["call_sign"] == "STAR-2"
    assert "speaks es" in entry["reasons"]
    [offer] = view["assignments"]
    assert offer["call_sign"] == "STAR-2"
    assert "speaks es" in offer["reasons"]


async def test_without_a_language_the_nearest_goes(desk: InProcessStack) -> None:
    incident_id = await submit(desk.dispatch, DEMO_CALL)
    view = await _offered(desk, incident_id)

    assert view["language"] is None
    [offer] = view["assignments"]
    assert offer["call_sign"] == "STAR-1"
    assert not [r for r in offer["reasons"] if r.startswith("speaks")]


async def test_languages_are_bcp_47_tags_at_intake_and_on_units(desk: InProcessStack) -> None:
    api = desk.dispatch
    refused = await api.post("/v1/calls", json={**DEMO_CALL, "language": "Spanish"})
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert "language" in refused.json()["detail"]

    unit = {**ROSTER[0], "call_sign": "STAR-3", "languages": ["EN", "vi", "es-us"]}
    created = await api.post("/v1/units", json=unit)
    assert created.status_code == 201, created.text
    assert created.json()["languages"] == ["en", "vi", "es-US"]
    patched = await api.patch(f"/v1/units/{created.json()['id']}", json={"languages": ["e s"]})
    assert patched.status_code == 422, patched.text
    assert "languages" in patched.json()["detail"]
