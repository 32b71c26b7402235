"""Outcomes and spikes through the real stack: a burst of overdoses, one spike, valid CAP; a close
with outcome fields that shows on the incident and in the report; bad fields refused by name.

The three services run in this event loop over a real broker and database; dispatch's clock is
moved by hand so a spike's 24 h window can pass without waiting. The policy gives the default
jurisdiction a fixed threshold of 3 overdoses in 24 h (and cells one too high to matter), so
the burst raises exactly one spike.
"""

import shutil
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import capvalidator
import pytest_asyncio

from services.cli.stack import Tansu
from services.common.policy_files import DEFAULT_POLICY_DIR
from services.dispatch.adapters.outcome_models import OutcomeRecord
from services.dispatch.app import spikes
from tests.support.clock import ManualClock
from tests.support.databases import DatabaseTarget
from tests.support.flow import incident, submit
from tests.support.inprocess import DEMO_CALL, InProcessStack
from tests.support.waiting import eventually

CAP = "urn:oasis:names:tc:emergency:cap:1.2"
ATOM = "http://www.w3.org/2005/Atom"
SUPERVISOR = "+17205550199"  # deploy/policies/default.yaml
PUBLIC_HEALTH = "+17205550177"
OVERDOSE = {
    **DEMO_CALL,
    "narrative": "found my roommate nodding out, lips turning blue, he uses fentanyl",
    "answers": {"overdose_suspected": True, "conscious": False},
}
PROVIDER = {
    "organization": "Near CARES",
    "service": {"name": "Withdrawal management bed", "type": "detox"},
    "location": {"lat": 39.75, "lon": -104.99},
    "contact": {"phone": "+17205550801"},
}


def _parse(xml: bytes) -> ET.Element:
    return ET.fromstring(xml)  # noqa: S314 - our own service's answer


@pytest_asyncio.fixture
async def desk(
    broker: Tansu, database: DatabaseTarget, roster: Path, tmp_path: Path
) -> AsyncIterator[tuple[InProcessStack, ManualClock]]:
    policies = tmp_path / "policies"
    shutil.copytree(DEFAULT_POLICY_DIR, policies)
    with (policies / "default.yaml").open("a") as policy:
        policy.write(
            "spikes:\n  overdose_24h: 3\n  cell_overdose_24h: 100\n"
            f'  public_health_phones: ["{PUBLIC_HEALTH}"]\n'
        )
    clock = ManualClock()
    stack = InProcessStack(
        broker.bootstrap,
        database,
        tmp_path,
        roster=roster,
        dispatch_clock=clock,
        overrides={
            "dispatch": {"policy_dir": policies, "spike_check_interval_s": 0.2},
            "triage": {"policy_dir": policies},
        },
    )
    async with stack:
        yield stack, clock


async def _triaged(stack: InProcessStack, call: dict[str, Any]) -> dict[str, Any]:
    incident_id = await submit(stack.dispatch, call)

    async def probe() -> dict[str, Any] | None:
        view = await incident(stack.dispatch, incident_id)
        return view if view["triage"] else None

    return await eventually(probe, what=f"incident {incident_id} triaged")


async def _spike_alerts(stack: InProcessStack) -> list[dict[str, Any]]:
    alerts: list[dict[str, Any]] = (await stack.dispatch.get("/v1/alerts")).json()
    return [a for a in alerts if a["kind"] == "spike"]


async def _check_now(stack: InProcessStack) -> tuple[int, int]:
    """One spike pass, as the timer runs it, so "no second alert" needs no waiting."""
    runtime = stack.runtime("dispatch")
    async with runtime.unit_of_work() as uow:
        found = await spikes.check(uow, stack.apps["dispatch"].state.dispatch.policies)
        await uow.commit()
    return found


async def test_a_burst_of_overdoses_raises_one_spike_whose_cap_validates(
    desk: tuple[InProcessStack, ManualClock],
) -> None:
    stack, clock = desk
    views = [await _triaged(stack, OVERDOSE) for _ in range(4)]
    assert all(v["triage"]["category"] == "overdose" for v in views)

    async def raised() -> list[dict[str, Any]] | None:
        found: list[dict[str, Any]] = (await stack.dispatch.get("/v1/spikes")).json()
        return found or None

    [spike] = await eventually(raised, what="a spike raised")
    assert spike["count"] == 4
    assert spike["threshold"] == 3
    assert spike["basis"] == "fixed"
    assert spike["area"] == "jurisdiction default"
    assert spike["geometry"] == {"circle": [39.74, -104.99, 1.0]}

    # More overdoses in the same window: the spike is not raised again.
    await _triaged(stack, OVERDOSE)
    assert await _check_now(stack) == (0, 0)
    assert len((await stack.dispatch.get("/v1/spikes")).json()) == 1
    [alert] = await _spike_alerts(stack)
    assert alert["incident_id"] in {v["id"] for v in views}
    assert "overdose spike" in alert["summary"]

    # Supervisors and the policy's public-health contact are paged, without the diagnosis.
    async def pages() -> list[dict[str, Any]] | None:
        messages = (
            await stack.notify.get("/v1/messages", params={"incident_id": alert["incident_id"]})
        ).json()
        found = [m for m in messages if "ALERT" in m["body"]]
        return found if len(found) == 2 else None

    for page in await eventually(pages, what="supervisor and public-health pages"):
        assert "spike alert" in page["body"]
        for word in ("overdose", "fentanyl", "naloxone", "1437", "default"):
            assert word not in page["body"].lower()

    cap = await stack.dispatch.get(f"/v1/spikes/{spike['id']}/cap")
    assert cap.status_code == 200
    assert cap.headers["content-type"].startswith("application/cap+xml")
    result = capvalidator.validate_cap_message(cap.content, strict=False)
    assert result.passed, result.message
    alert_xml = _parse(cap.content)
    assert alert_xml.findtext(f"{{{CAP}}}msgType") == "Alert"
    assert alert_xml.findtext(f"{{{CAP}}}scope") == "Restricted"
    # Nothing personal: no number, address or narrative, no incident id. (Four-digit incident
    # codes are not looked for: they could be any year or time in the message by chance.)
    for secret in (DEMO_CALL["caller"]["phone"], "Bannock", "roommate"):
        assert secret.encode() not in cap.content
    for view in views:
        assert view["id"].encode() not in cap.content

    # The window passes: the spike clears, and the feed carries its Cancel as valid CAP too.
    clock.advance(24 * 3600 + 1)
    assert await _check_now(stack) == (0, 1)
    feed = await stack.dispatch.get("/v1/cap/feed")
    assert feed.status_code == 200
    assert feed.headers["content-type"].startswith("application/atom+xml")
    entries = _parse(feed.content).findall(f"{{{ATOM}}}entry")
    kinds = []
    for entry in entries:
        message = entry.find(f"{{{ATOM}}}content/{{{CAP}}}alert")
        assert message is not None
        assert capvalidator.validate_cap_message(ET.tostring(message), strict=False).passed
        kinds.append(message.findtext(f"{{{CAP}}}msgType"))
    assert kinds == ["Cancel", "Alert"]
    cancel = await stack.dispatch.get(f"/v1/spikes/{spike['id']}/cap", params={"cancel": "true"})
    assert capvalidator.validate_cap_message(cancel.content, strict=False).passed
    assert len(await _spike_alerts(stack)) == 1

    # A new burst in a new window is a new spike: one more, not one per overdose.
    for _ in range(4):
        await _triaged(stack, OVERDOSE)

    async def two() -> list[dict[str, Any]] | None:
        found: list[dict[str, Any]] = (await stack.dispatch.get("/v1/spikes")).json()
        return found if len(found) == 2 else None

    newest, cleared = await eventually(two, what="a second spike")
    assert cleared["cleared_at"] is not None
    assert newest["cleared_at"] is None
    assert newest["count"] == 4
    assert await _check_now(stack) == (0, 0)
    assert len(await _spike_alerts(stack)) == 2


async def test_outcome_fields_at_close_show_on_the_incident_and_in_the_report(
    desk: tuple[InProcessStack, ManualClock],
) -> None:
    stack, clock = desk
    provider = await stack.dispatch.post("/v1/providers", json=PROVIDER)
    assert provider.status_code == 201, provider.text
    provider_id = provider.json()["id"]
    views = [await _triaged(stack, OVERDOSE) for _ in range(5)]
    first = views[0]["id"]

    refused: dict[str, dict[str, Any]] = {
        "naloxone_doses": {"naloxone_doses": 11},
        "transported_to": {"transported_to": "Denver Health"},
        "follow_up_outcome": {"follow_up_outcome": "maybe"},
        "arrest": {"arrest": "no"},
        "referred_provider_id": {"referred_provider_id": "no-such-provider"},
    }
    for field, fields in refused.items():
        body = {"disposition": "treated_on_scene", **fields}
        response = await stack.dispatch.post(f"/v1/incidents/{first}/close", json=body)
        assert response.status_code == 422, (field, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert field in response.json()["detail"]
    assert (await incident(stack.dispatch, first))["status"] != "closed"

    for n, view in enumerate(views):
        closing: dict[str, Any] = {
            "disposition": "deflected_to_treatment",
            "naloxone_doses": 2,
            "transported": n < 1,
            **({"transported_to": "Denver Health"} if n < 1 else {}),
            "referred_provider_id": provider_id,
            "arrest": False,
        }
        closed = await stack.dispatch.post(f"/v1/incidents/{view['id']}/close", json=closing)
        assert closed.status_code == 200, closed.text
    shown = await incident(stack.dispatch, first)
    [outcome] = [e for e in shown["timeline"] if e["kind"] == "incident.outcome"]
    assert outcome["data"] == {
        "naloxone_doses": 2,
        "transported": True,
        "referred_provider_id": provider_id,
        "arrest": False,
        "fatal_overdose": False,
    }
    assert "Denver Health" in outcome["summary"]

    clock.advance(60)  # the report's default period ends now, and excludes its last instant
    report = await stack.dispatch.get("/v1/reports/outcomes")
    assert report.status_code == 200, report.text
    figures = {(f["section"], f["name"]): f for f in report.json()["figures"] if f["week"] == "all"}
    assert figures[("naloxone", "incidents")]["value"] == 5
    assert figures[("naloxone", "doses")]["value"] == 10
    assert figures[("naloxone", "reversals")]["value"] == 5
    assert figures[("dispositions", "deflected_to_treatment")]["value"] == 5
    # One transport is a small cell: not shown, marked.
    assert figures[("outcomes", "transported")] == {
        "section": "outcomes",
        "program": "all",
        "week": "all",
        "name": "transported",
        "value": None,
        "suppressed": True,
    }
    # Five calls from one number: four repeat calls by one caller, who is suppressed.
    assert figures[("repeat_calls", "repeat_calls_30d")]["suppressed"] is True
    assert DEMO_CALL["caller"]["phone"] not in report.text

    as_csv = await stack.dispatch.get("/v1/reports/outcomes", headers={"Accept": "text/csv"})
    assert as_csv.headers["content-type"].startswith("text/csv")
    lines = as_csv.text.splitlines()
    assert lines[0] == "section,program,week,name,value,suppressed"
    assert "naloxone,all,all,doses,10,False" in lines
    assert "outcomes,all,all,transported,,True" in lines
    by_format = await stack.dispatch.get("/v1/reports/outcomes", params={"format": "csv"})
    assert by_format.text == as_csv.text

    # The reports page's charts: SVG drawn by dispatch, and each chart's figures as CSV.
    drawn = await stack.dispatch.get("/v1/reports/outcomes/charts/funnel")
    assert drawn.status_code == 200
    assert drawn.headers["content-type"].startswith("image/svg+xml")
    assert _parse(drawn.content).tag == "{http://www.w3.org/2000/svg}svg"
    funnel = await stack.dispatch.get(
        "/v1/reports/outcomes/charts/funnel", params={"format": "csv"}
    )
    assert funnel.text.splitlines()[1] == "calls,all,all,incidents,5,False"

    # Past retention, where the person was taken (typed text) goes; the figures stay.
    clock.advance(401 * 24 * 3600)

    async def purged_view() -> dict[str, Any] | None:
        # Purged once its follow-up visit has been opened (the timer worker does that).
        await stack.apps["dispatch"].state.purge_expired()
        view = await incident(stack.dispatch, first)
        return view if view["purged_at"] else None

    purged = await eventually(purged_view, what="the incident purged")
    [outcome] = [e for e in purged["timeline"] if e["kind"] == "incident.outcome"]
    assert "Denver Health" not in outcome["summary"]
    assert outcome["data"]["transported"] is True
    async with stack.runtime("dispatch").db.session() as session:
        kept = await session.get(OutcomeRecord, first)
    assert kept is not None
    assert kept.transported_to is None
    assert kept.naloxone_doses == 2
