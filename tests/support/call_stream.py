"""A stream of realistic calls and the check that each one ended exactly once.

Shared by the tests that kill service processes mid-stream: whatever was
killed, every call must end with exactly one triage decision, one offer per
role dispatch planned (the triage roles, with telehealth standing in for a
clinician who is too far once the near ones are busy, and an EMT added to an
overdose), one SMS per offer, and no unit offered twice.
"""

from collections.abc import Sequence
from typing import Any

import httpx

from services.cli.sample_calls import SAMPLE_CALLS
from tests.support.databases import DatabaseTarget
from tests.support.inprocess import DEMO_CALL
from tests.support.raw_rows import count_rows
from tests.support.waiting import eventually


def sample_call(i: int) -> dict[str, Any]:
    return {**DEMO_CALL, **SAMPLE_CALLS[i % len(SAMPLE_CALLS)]}


async def wait_until_all_texted(
    client: httpx.AsyncClient, dispatch_url: str, incident_ids: Sequence[str]
) -> list[dict[str, Any]]:
    """Every incident's view once each unit dispatch recommended has been texted."""

    async def all_texted() -> list[dict[str, Any]] | None:
        views = []
        for incident_id in incident_ids:
            view = (await client.get(f"{dispatch_url}/v1/incidents/{incident_id}")).json()
            sent = [n for n in view["notifications"] if n["status"] == "sent"]
            if not view["recommendation"] or len(sent) < len(view["recommendation"]):
                return None
            views.append(view)
        return views

    return await eventually(all_texted, timeout_s=120, interval_s=0.5, what="every call texted")


async def assert_each_call_handled_once(
    views: Sequence[dict[str, Any]],
    messages: Sequence[dict[str, Any]],
    database: DatabaseTarget,
    calls: int,
) -> None:
    assert len({view["id"] for view in views}) == calls
    for view in views:
        roles = [entry["role"] for entry in view["recommendation"]]
        assert set(roles) - {"telehealth", "emt"} <= set(view["triage"]["roles"]), view["id"]
        assert sorted(a["role"] for a in view["assignments"]) == sorted(roles), (
            view["id"],
            view["assignments"],
            view["recommendation"],
        )
        assert [e["kind"] for e in view["timeline"]].count("call.triaged") == 1, view["id"]
        # One SMS per offer. A stream of overdoses may also raise a spike alert, whose page
        # to the supervisors is filed on an incident without an assignment.
        texted = [n for n in view["notifications"] if n["assignment_id"] is not None]
        assert len(texted) == len(roles), view["id"]
    offers = [a["id"] for view in views for a in view["assignments"]]
    pages = [m for m in messages if m["assignment_id"] is None]
    assert sorted(m["assignment_id"] for m in messages if m not in pages) == sorted(offers)
    assert all(m["status"] == "sent" for m in messages)
    units = [a["unit_id"] for view in views for a in view["assignments"]]
    assert len(units) == len(set(units)), "a unit was offered twice"
    # Straight from the databases: decisions and SMS actually recorded, none twice.
    assert await count_rows(database, "triage", "triage_decisions") == calls
    assert await count_rows(database, "notify", "console_sms") == len(offers) + len(pages)
