"""Who is sent is what a dispatcher would choose, and a dispatcher can always fix it (issue 16).

Nearest within the policy's maximum ETA before any tablet; a far unit is never offered
by itself but can be sent by hand; a unit tried earlier can be sent again; a unit called
off on its way is back in service; a P1's first unanswered offer reaches the dispatcher
at once and moves to another unit. Real broker, SQLite and PostgreSQL; dispatch runs on
a clock the test moves.
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

DENVER = (39.7392, -104.9903)
FAIRPLAY = (39.2247, -105.9989)  # Park County: about three hours from Denver by these ETAs


def _unit(
    n: int, call_sign: str, role: str, at: tuple[float, float] | None, **extra: Any
) -> dict[str, Any]:
    unit = {
        "call_sign": call_sign,
        "agency": call_sign.split("-")[0],
        "roles": [role],
        "phone": f"+172055504{n:02d}",
        **extra,
    }
    if at is not None:
        unit |= {"lat": at[0], "lon": at[1]}
    return unit


ROSTER = [
    _unit(1, "1A21", "police", (DENVER[0] - 0.003, DENVER[1])),
    _unit(2, "PCSO-1", "police", (FAIRPLAY[0] + 0.01, FAIRPLAY[1])),
    _unit(3, "STAR-1", "clinician", (DENVER[0] + 0.002, DENVER[1])),
    _unit(4, "STAR-2", "clinician", (DENVER[0] + 0.004, DENVER[1])),
    _unit(5, "M4", "emt", (DENVER[0] + 0.010, DENVER[1])),
    _unit(
        6,
        "E18",
        "emt",
        (DENVER[0] + 0.012, DENVER[1]),
        capabilities=["telehealth_tablet", "naloxone"],
    ),
    _unit(7, "PCA-1", "emt", (FAIRPLAY[0] + 0.02, FAIRPLAY[1])),
    _unit(8, "TH-1", "telehealth", None),
]
NON_URGENT = {**DEMO_CALL, "narrative": "asking where to get detox for her son, son home and safe"}
OVERDOSE = {**DEMO_CALL, "narrative": "friend nodding out, lips blue, used fentanyl", "answers": {}}


@pytest_asyncio.fixture
async def desk(
    broker: Tansu, database: DatabaseTarget, tmp_path: Path
) -> AsyncIterator[tuple[InProcessStack, ManualClock]]:
    roster = tmp_path / "roster.json"
    roster.write_text(json.dumps(ROSTER))
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


async def _units(stack: InProcessStack) -> dict[str, dict[str, Any]]:
    return {u["call_sign"]: u for u in (await stack.dispatch.get("/v1/units")).json()}


async def _until(stack: InProcessStack, incident_id: str, status: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        view = await incident(stack.dispatch, incident_id)
        return view if view["status"] == status else None

    return await eventually(probe, what=f"incident {status}")


async def _offered(stack: InProcessStack, incident_id: str, count: int) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        view = await incident(stack.dispatch, incident_id)
        live = [a for a in view["assignments"] if a["status"] == "offered"]
        return view if len(live) == count else None

    return await eventually(probe, what=f"{count} open offers on {incident_id}")


async def _step(stack: InProcessStack, assignment_id: str, status: str) -> Any:
    moved = await stack.dispatch.post(
        f"/v1/assignments/{assignment_id}/status", json={"status": status}
    )
    assert moved.status_code == 200, moved.text
    return moved.json()


async def _dispatch(stack: InProcessStack, incident_id: str, order: dict[str, Any]) -> Any:
    return await stack.dispatch.post(f"/v1/incidents/{incident_id}/dispatch", json=order)


async def test_a_rural_overdose_gets_the_unit_three_minutes_away_not_the_far_one_with_a_tablet(
    desk: tuple[InProcessStack, ManualClock],
) -> None:
    stack, _clock = desk
    call = {
        **OVERDOSE,
        "jurisdiction": "rural",
        "location": {"lat": FAIRPLAY[0], "lon": FAIRPLAY[1], "address": "400 Main St, Fairplay"},
    }
    incident_id = await submit(stack.dispatch, call)
    view = await _offered(stack, incident_id, 2)  # the EMT and the telehealth clinician
    offered = {a["role"]: a for a in view["assignments"]}
    assert offered["emt"]["call_sign"] == "PCA-1"
    assert offered["emt"]["eta_seconds"] < 5 * 60
    assert offered["telehealth"]["call_sign"] == "TH-1"
    emt = next(e for e in view["recommendation"] if e["role"] == "emt")
    e18 = next(a for a in emt["alternatives"] if a["call_sign"] == "E18")
    assert e18["far"] is True
    assert "E18" not in [a["call_sign"] for a in view["assignments"]]


async def test_a_denver_call_is_never_offered_a_park_county_unit_but_a_dispatcher_may_send_it(
    desk: tuple[InProcessStack, ManualClock],
) -> None:
    stack, _clock = desk
    units = await _units(stack)
    off = await stack.dispatch.post(
        f"/v1/units/{units['1A21']['id']}/status", json={"status": "off_duty"}
    )
    assert off.status_code == 200, off.text
    armed = {
        **DEMO_CALL,
        "narrative": "man with a gun in the yard, his brother is unconscious and bleeding",
        "answers": {**DEMO_CALL["answers"], "weapons": True, "conscious": False, "injury": True},
    }
    incident_id = await submit(stack.dispatch, armed)

    async def police_unfilled() -> dict[str, Any] | None:
        view = await incident(stack.dispatch, incident_id)
        entries = [e for e in view["recommendation"] if e["role"] == "police"]
        return view if entries and view["status"] == "unassigned" else None

    view = await eventually(police_unfilled, what="the police role unfilled")
    police = next(e for e in view["recommendation"] if e["role"] == "police")
    assert police["unit_id"] is None
    assert police["reasons"] == ["no unit available for police within the policy maximum ETA"]
    assert any("PCSO-1" in note and note.startswith("far:") for note in police["notes"])
    assert not [a for a in view["assignments"] if a["role"] == "police"]
    states = {r["role"]: r for r in view["roles"]}
    assert states["police"]["state"] == "unfilled"
    assert view["unfilled_roles"] == ["police"]
    # Another role saying yes does not make the incident read "dispatched".
    other = next(a for a in view["assignments"] if a["status"] == "offered")
    await _step(stack, other["id"], "accepted")
    view = await incident(stack.dispatch, incident_id)
    assert view["status"] == "unassigned"
    assert {r["role"]: r["state"] for r in view["roles"]}[other["role"]] == "filled"
    alerts = (await stack.dispatch.get("/v1/alerts")).json()
    [unfilled] = [
        a for a in alerts if a["incident_id"] == incident_id and a["kind"] == "role_unfilled"
    ]
    assert "PCSO-1" in unfilled["summary"]
    assert "dispatcher" in unfilled["audience"]

    # Nothing was recommended for police: sending the far unit needs no reason.
    order = {"units": [{"role": "police", "unit_id": units["PCSO-1"]["id"]}]}
    sent = await _dispatch(stack, incident_id, order)
    assert sent.status_code == 200, sent.text
    [mine] = [a for a in sent.json()["assignments"] if a["role"] == "police"]
    assert mine["call_sign"] == "PCSO-1"
    assert any(r.startswith("far: ") for r in mine["reasons"])
    assert sent.json()["unfilled_roles"] == []
    assert sent.json()["status"] == "dispatched"
    police_now = next(r for r in sent.json()["roles"] if r["role"] == "police")
    assert (police_now["state"], police_now["call_signs"]) == ("offered", ["PCSO-1"])


async def test_a_dispatcher_can_send_a_unit_that_was_tried_before(
    desk: tuple[InProcessStack, ManualClock],
) -> None:
    stack, _clock = desk
    units = await _units(stack)
    incident_id = await submit(stack.dispatch, NON_URGENT)
    [entry] = (await _until(stack, incident_id, "awaiting_dispatch"))["recommendation"]
    assert entry["call_sign"] == "STAR-1"
    first = await _dispatch(
        stack, incident_id, {"units": [{"role": "clinician", "unit_id": entry["unit_id"]}]}
    )
    assert first.status_code == 200, first.text
    [offer] = first.json()["assignments"]
    await _step(stack, offer["id"], "declined")  # the escalation moves on to STAR-2
    view = await _offered(stack, incident_id, 1)
    [star2] = [a for a in view["assignments"] if a["status"] == "offered"]
    assert star2["call_sign"] == "STAR-2"

    # STAR-1 calls back, free after all: the dispatcher sends it again by hand.
    again = await _dispatch(
        stack,
        incident_id,
        {
            "units": [{"role": "clinician", "unit_id": units["STAR-1"]["id"]}],
            "override_reason": "STAR-1 phoned in, free after all",
        },
    )
    assert again.status_code == 200, again.text
    live = [a for a in again.json()["assignments"] if a["status"] == "offered"]
    assert sorted(a["call_sign"] for a in live) == ["STAR-1", "STAR-2"]

    # A unit that is committed is refused by its call sign, with where it is committed.
    busy = await _dispatch(
        stack,
        incident_id,
        {
            "units": [{"role": "clinician", "unit_id": units["STAR-2"]["id"]}],
            "override_reason": "try again",
        },
    )
    assert busy.status_code == 409
    detail = busy.json()["detail"]
    assert detail.startswith("STAR-2 cannot be offered as clinician")
    assert view["code"] in detail
    assert units["STAR-2"]["id"] not in detail


async def test_a_unit_called_off_on_its_way_is_back_in_service_and_offered_again(
    desk: tuple[InProcessStack, ManualClock],
) -> None:
    stack, _clock = desk
    incident_id = await submit(stack.dispatch, NON_URGENT)
    [entry] = (await _until(stack, incident_id, "awaiting_dispatch"))["recommendation"]
    sent = await _dispatch(
        stack, incident_id, {"units": [{"role": "clinician", "unit_id": entry["unit_id"]}]}
    )
    [offer] = sent.json()["assignments"]
    await _step(stack, offer["id"], "accepted")
    # The board says where an accepted unit is committed, though it still reads available.
    board = (await _units(stack))["STAR-1"]
    assert board["status"] == "available"
    assert (board["assignment_status"], board["assignment_role"]) == ("accepted", "clinician")
    assert board["incident_code"] == sent.json()["code"]
    await _step(stack, offer["id"], "en_route")
    assert (await _units(stack))["STAR-1"]["status"] == "en_route"
    cancelled = await _step(stack, offer["id"], "cancelled")
    assert cancelled["status"] == "cancelled"
    view = await incident(stack.dispatch, incident_id)
    assert view["status"] == "unassigned"  # the clinician role has nobody now
    assert view["unfilled_roles"] == ["clinician"]
    star1 = (await _units(stack))["STAR-1"]
    assert star1["status"] == "available"
    assert star1["current_assignment_id"] is None

    second = await submit(stack.dispatch, NON_URGENT)
    [entry] = (await _until(stack, second, "awaiting_dispatch"))["recommendation"]
    assert entry["call_sign"] == "STAR-1"


async def test_a_p1_first_expiry_alerts_the_dispatcher_at_once_and_asks_another_unit(
    desk: tuple[InProcessStack, ManualClock],
) -> None:
    stack, clock = desk
    incident_id = await submit(stack.dispatch, OVERDOSE)  # P1: EMT and clinician
    view = await _offered(stack, incident_id, 2)
    first = {a["role"]: a["call_sign"] for a in view["assignments"]}
    assert first == {"emt": "E18", "clinician": "STAR-1"}  # E18 carries naloxone

    clock.advance(151)  # the default P1 first step waits 150 s
    timers: TimerWorker = stack.apps["dispatch"].state.timers
    assert await timers.fire_due() == 2
    view = await _offered(stack, incident_id, 2)
    now = {a["role"]: a["call_sign"] for a in view["assignments"] if a["status"] == "offered"}
    assert now == {"emt": "M4", "clinician": "STAR-2"}  # never the same unit again

    alerts = (await stack.dispatch.get("/v1/alerts")).json()
    mine = [a for a in alerts if a["incident_id"] == incident_id]
    assert sorted(a["kind"] for a in mine) == ["offer_unanswered", "offer_unanswered"]
    assert all(a["audience"] == ["dispatcher"] for a in mine)
    assert any("E18 did not answer" in a["summary"] and "M4" in a["summary"] for a in mine)


async def test_a_p1_expiry_with_nobody_else_alerts_at_once_instead_of_asking_the_same_unit(
    desk: tuple[InProcessStack, ManualClock],
) -> None:
    stack, clock = desk
    units = await _units(stack)
    off = await stack.dispatch.post(
        f"/v1/units/{units['STAR-2']['id']}/status", json={"status": "off_duty"}
    )
    assert off.status_code == 200, off.text
    incident_id = await submit(stack.dispatch, OVERDOSE)
    view = await _offered(stack, incident_id, 2)
    [clinician] = [a for a in view["assignments"] if a["role"] == "clinician"]
    assert clinician["call_sign"] == "STAR-1"

    clock.advance(151)
    timers: TimerWorker = stack.apps["dispatch"].state.timers
    await timers.fire_due()
    view = await incident(stack.dispatch, incident_id)
    clinicians = [a for a in view["assignments"] if a["role"] == "clinician"]
    # Before, the escalation's second loop offered STAR-1 again and the dispatcher
    # heard nothing until every step had run; now the role is unfilled at once.
    assert [(a["call_sign"], a["status"]) for a in clinicians] == [("STAR-1", "expired")]
    alerts = (await stack.dispatch.get("/v1/alerts")).json()
    [unfilled] = [
        a for a in alerts if a["incident_id"] == incident_id and a["kind"] == "role_unfilled"
    ]
    assert "dispatcher" in unfilled["audience"]
    assert "clinician" in unfilled["summary"]


ARMED = {
    **DEMO_CALL,
    "narrative": "man with a gun in the yard, his brother is unconscious and bleeding",
    "answers": {**DEMO_CALL["answers"], "weapons": True, "conscious": False, "injury": True},
}


async def _police_unfilled(stack: InProcessStack, incident_id: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        view = await incident(stack.dispatch, incident_id)
        return view if "police" in view["unfilled_roles"] else None

    return await eventually(probe, what="the police role unfilled")


async def test_a_unit_back_in_service_is_offered_to_the_incident_waiting_for_it(
    desk: tuple[InProcessStack, ManualClock],
) -> None:
    stack, _clock = desk
    units = await _units(stack)
    police_id = units["1A21"]["id"]
    await stack.dispatch.post(f"/v1/units/{police_id}/status", json={"status": "off_duty"})
    incident_id = await submit(stack.dispatch, ARMED)
    await _police_unfilled(stack, incident_id)

    back = await stack.dispatch.post(f"/v1/units/{police_id}/status", json={"status": "available"})
    assert back.status_code == 200, back.text
    assert back.json()["incident_code"] is not None  # booked at once by the re-plan
    view = await incident(stack.dispatch, incident_id)
    [police] = [a for a in view["assignments"] if a["role"] == "police"]
    assert (police["call_sign"], police["status"]) == ("1A21", "offered")
    assert view["unfilled_roles"] == []
    assert view["status"] == "dispatched"
    entry = next(e for e in view["recommendation"] if e["role"] == "police")
    assert entry["call_sign"] == "1A21"
    assert "recommendation.replanned" in [e["kind"] for e in view["timeline"]]


async def test_a_dispatcher_replans_after_a_unit_moves_near(
    desk: tuple[InProcessStack, ManualClock],
) -> None:
    stack, _clock = desk
    units = await _units(stack)
    police_id = units["1A21"]["id"]
    away = {"lat": FAIRPLAY[0], "lon": FAIRPLAY[1], "source": "manual"}
    assert (
        await stack.dispatch.post(f"/v1/units/{police_id}/location", json=away)
    ).status_code == 200
    incident_id = await submit(stack.dispatch, ARMED)
    await _police_unfilled(stack, incident_id)

    # Nothing changed yet: the re-plan still finds nobody near, and says so.
    same = await stack.dispatch.post(f"/v1/incidents/{incident_id}/replan")
    assert same.status_code == 200, same.text
    assert same.json()["unfilled_roles"] == ["police"]
    police = next(e for e in same.json()["recommendation"] if e["role"] == "police")
    assert police["unit_id"] is None
    assert len([n for n in police["notes"] if n.startswith("far:")]) == 1

    near = {"lat": DENVER[0] - 0.003, "lon": DENVER[1], "source": "manual"}
    await stack.dispatch.post(f"/v1/units/{police_id}/location", json=near)
    replanned = await stack.dispatch.post(f"/v1/incidents/{incident_id}/replan")
    assert replanned.status_code == 200, replanned.text
    view = replanned.json()
    [offer] = [a for a in view["assignments"] if a["role"] == "police"]
    assert offer["call_sign"] == "1A21"
    assert view["unfilled_roles"] == []


async def test_a_unit_that_clears_one_call_is_offered_to_the_next_one_waiting(
    desk: tuple[InProcessStack, ManualClock],
) -> None:
    stack, _clock = desk
    first = await submit(stack.dispatch, ARMED)
    view = await _offered(stack, first, 2)  # police and EMT
    [police] = [a for a in view["assignments"] if a["role"] == "police"]
    assert police["call_sign"] == "1A21"
    for status in ("accepted", "on_scene"):
        await _step(stack, police["id"], status)
    second = await submit(stack.dispatch, ARMED)
    await _police_unfilled(stack, second)  # 1A21 is busy; PCSO-1 is far

    await _step(stack, police["id"], "cleared")
    view = await incident(stack.dispatch, second)
    [offer] = [a for a in view["assignments"] if a["role"] == "police"]
    assert (offer["call_sign"], offer["status"]) == ("1A21", "offered")
    assert view["status"] == "dispatched"
