"""No unit is ever double-booked: concurrent incidents over few units, two dispatch replicas.

Both replicas share the database and the consumer group, as in production;
calls and dispatcher confirmations go to either replica at once. Run on SQLite
and on PostgreSQL, where row versions and the partial unique index on live
assignments are what stop the second booking.
"""

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio

from services.cli.stack import Tansu
from tests.support.databases import DatabaseTarget
from tests.support.flow import incident, submit
from tests.support.inprocess import DEMO_CALL, InProcessStack
from tests.support.waiting import eventually

FEW = [
    {
        "call_sign": f"STAR-{n}",
        "agency": "STAR",
        "roles": ["clinician"],
        "phone": f"+1720555020{n}",
        "lat": 39.7392 + n * 0.001,
        "lon": -104.9903,
    }
    for n in range(3)
]
LIVE = {"offered", "accepted", "en_route", "on_scene"}
# Safe and asking for a bed: priority 3, which waits for a dispatcher.
NON_URGENT = {
    **DEMO_CALL,
    "narrative": "drunk on the bench, asking for a detox bed, safe, no weapons",
}


@pytest_asyncio.fixture
async def replicas(
    broker: Tansu, database: DatabaseTarget, tmp_path: Path
) -> AsyncIterator[InProcessStack]:
    roster = tmp_path / "roster.json"
    roster.write_text(json.dumps(FEW))
    stack = InProcessStack(broker.bootstrap, database, tmp_path, roster=roster)
    await stack.start("dispatch", "dispatch#2", "triage", "notify")
    try:
        yield stack
    finally:
        await stack.stop()


def _both(stack: InProcessStack) -> list[Any]:
    return [stack.clients["dispatch"], stack.clients["dispatch#2"]]


async def _settled(stack: InProcessStack, ids: list[str]) -> list[dict[str, Any]]:
    async def probe() -> list[dict[str, Any]] | None:
        views = [await incident(stack.dispatch, i) for i in ids]
        done = all(v["status"] in ("dispatched", "unassigned", "awaiting_dispatch") for v in views)
        return views if done else None

    return await eventually(probe, timeout_s=60, what="every incident dispatched or alerted")


def _assert_no_unit_twice(views: list[dict[str, Any]]) -> Counter[str]:
    live = Counter(a["unit_id"] for v in views for a in v["assignments"] if a["status"] in LIVE)
    assert live, "nothing was offered"
    assert max(live.values()) == 1, live
    return live


async def test_concurrent_calls_over_few_units_never_share_a_unit(
    replicas: InProcessStack,
) -> None:
    clients = _both(replicas)
    ids = await asyncio.gather(*(submit(clients[i % 2], DEMO_CALL) for i in range(12)))
    views = await _settled(replicas, list(ids))
    live = _assert_no_unit_twice(views)
    assert len(live) == len(FEW)  # every unit is working, none twice
    assert sum(v["status"] == "unassigned" for v in views) == len(ids) - len(FEW)
    for unit in (await replicas.dispatch.get("/v1/units")).json():
        mine = [
            a
            for v in views
            for a in v["assignments"]
            if a["unit_id"] == unit["id"] and a["status"] in LIVE
        ]
        assert [a["id"] for a in mine] == [unit["current_assignment_id"]]


async def test_two_dispatchers_choosing_the_same_unit_at_once_get_one_booking(
    replicas: InProcessStack,
) -> None:
    clients = _both(replicas)
    ids = [await submit(clients[i % 2], NON_URGENT) for i in range(6)]
    views = await _settled(replicas, ids)
    assert {v["status"] for v in views} == {"awaiting_dispatch"}
    unit_id = views[0]["recommendation"][0]["unit_id"]
    order = {
        "units": [{"role": "clinician", "unit_id": unit_id}],
        "override_reason": "nearest to the caller's shelter",
    }
    answers = await asyncio.gather(
        *(
            clients[i % 2].post(f"/v1/incidents/{incident_id}/dispatch", json=order)
            for i, incident_id in enumerate(ids)
        )
    )
    codes = Counter(a.status_code for a in answers)
    assert codes == {200: 1, 409: len(ids) - 1}, [a.text for a in answers]
    refused = next(a for a in answers if a.status_code == 409)
    # Named by call sign, with where it went (or that another booking won the race).
    detail = refused.json()["detail"]
    assert detail.startswith(f"{views[0]['recommendation'][0]['call_sign']} cannot be offered")
    assert "committed to incident" in detail or "booked it first" in detail
    _assert_no_unit_twice([await incident(replicas.dispatch, i) for i in ids])
