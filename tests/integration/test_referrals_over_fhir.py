"""A warm handoff is a FHIR referral a provider's own system reads, accepts, rejects and
closes: ServiceRequest + Task (SDOH Clinical Care IG's lifecycle), served as FHIR R4 JSON.

Real broker, SQLite and PostgreSQL; provider systems are real API clients (key exchanged
for a token); every resource served is validated with ``fhir.resources.R4B``.
"""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest_asyncio
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.servicerequest import ServiceRequest
from fhir.resources.R4B.task import Task

from services.cli.stack import Tansu
from services.dispatch.app.timers import TimerWorker
from services.dispatch.domain.fhir_mapping import organization_id
from tests.support.clock import ManualClock
from tests.support.databases import DatabaseTarget
from tests.support.flow import incident, submit
from tests.support.inprocess import DEMO_CALL, InProcessStack, mint_token
from tests.support.waiting import eventually

SCENE = (39.7392, -104.9903)
FHIR = "application/fhir+json"
OVERDOSE_CALL = {
    **DEMO_CALL,
    "narrative": "my brother overdosed on fentanyl, we gave him narcan, he is breathing now, "
    "no weapons, not violent",
}


def _provider(org: str, phone: str, km_north: float, **extra: Any) -> dict[str, Any]:
    return {
        "organization": org,
        "service": {"name": "Withdrawal management bed", "type": "detox"},
        "location": {"lat": SCENE[0] + km_north / 111.0, "lon": SCENE[1]},
        "contact": {"phone": phone},
        **extra,
    }


DIRECTORY = [
    _provider("Near CARES", "+17205550801", 1, capacity=2),
    _provider("Far Detox", "+17205550802", 8),
]


class Desk:
    """The stack, its clock, and one FHIR client per provider system (and staff)."""

    def __init__(
        self,
        stack: InProcessStack,
        clock: ManualClock,
        keys: dict[str, str],
        tokens: dict[str, str],
    ):
        self.stack, self.clock, self.keys, self.tokens = stack, clock, keys, tokens

    async def sign_in_again(self, who: str) -> None:
        """A provider system's access token is short-lived: exchange its key again."""
        exchanged = await self.stack.dispatch.post(
            "/v1/auth/token", json={"api_key": self.keys[who]}
        )
        assert exchanged.status_code == 200, exchanged.text
        self.tokens[who] = exchanged.json()["access_token"]

    def fhir(self, who: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.stack.apps["dispatch"]),
            base_url="http://dispatch/fhir/r4",
            headers={"Authorization": f"Bearer {self.tokens[who]}", "Accept": FHIR},
        )


async def _provider_key(stack: InProcessStack, name: str, organization: str) -> str:
    made = await stack.dispatch.post(
        "/v1/clients", json={"name": name, "roles": ["provider"], "organization": organization}
    )
    assert made.status_code == 201, made.text
    assert made.json()["client"]["organization"] == organization
    key: str = made.json()["api_key"]
    return key


@pytest_asyncio.fixture
async def desk(broker: Tansu, database: DatabaseTarget, tmp_path: Path) -> AsyncIterator[Desk]:
    clock = ManualClock()
    stack = InProcessStack(
        broker.bootstrap,
        database,
        tmp_path,
        dispatch_clock=clock,
        overrides={"dispatch": {"timer_poll_interval_s": 3600}},
    )
    async with stack:
        for entry in DIRECTORY:
            added = await stack.dispatch.post("/v1/providers", json=entry)
            assert added.status_code == 201, added.text
        keys = {
            "near": await _provider_key(stack, "near-cares-ehr", "Near CARES"),
            "far": await _provider_key(stack, "far-detox-ehr", "Far Detox"),
        }
        tokens = {
            "dispatcher": mint_token(["dispatcher"], name="dana"),
            "unit": mint_token(["unit"], name="unit-7"),
        }
        desk = Desk(stack, clock, keys, tokens)
        for who in keys:
            await desk.sign_in_again(who)
        yield desk


def _fhir_json(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(FHIR)
    body: dict[str, Any] = response.json()
    return body


def _outcome(response: httpx.Response, status: int) -> OperationOutcome:
    return OperationOutcome.model_validate(_fhir_json(response, status))


async def _ask(desk: Desk, call: dict[str, Any] | None = None) -> tuple[str, str]:
    incident_id = await submit(desk.stack.dispatch, call or DEMO_CALL)
    asked = await desk.stack.dispatch.post(
        f"/v1/incidents/{incident_id}/handoffs", json={"service": "detox"}
    )
    assert asked.status_code == 201, asked.text
    handoff_id: str = asked.json()["id"]
    return incident_id, handoff_id


async def _only_task(desk: Desk, who: str, **params: str) -> Task:
    async with desk.fhir(who) as client:
        bundle = Bundle.model_validate(_fhir_json(await client.get("/Task", params=params)))
    assert bundle.type == "searchset"
    assert bundle.total == 1, bundle.model_dump_json()
    task = Task.model_validate(bundle.entry[0].resource.model_dump())  # type: ignore[index,union-attr]
    return task


async def test_a_handoff_is_a_task_its_provider_reads_and_searches_and_no_one_else(
    desk: Desk,
) -> None:
    incident_id, handoff_id = await _ask(desk)
    near = organization_id("Near CARES")
    task = await _only_task(desk, "near", owner=f"Organization/{near}", status="requested")
    assert task.intent == "order"
    assert task.code.coding[0].code == "fulfill"  # type: ignore[union-attr,index]
    assert task.focus.reference == f"ServiceRequest/{handoff_id}"  # type: ignore[union-attr]
    assert task.owner.reference == f"Organization/{near}"  # type: ignore[union-attr]
    assert task.authoredOn is not None
    assert task.requester is not None
    code = (await incident(desk.stack.dispatch, incident_id))["code"]

    async with desk.fhir("near") as client:
        read = Task.model_validate(_fhir_json(await client.get(f"/Task/{task.id}")))
        assert read.status == "requested"
        referral = ServiceRequest.model_validate(
            _fhir_json(await client.get(f"/ServiceRequest/{handoff_id}"))
        )
    assert referral.intent == "order"
    assert referral.status == "active"
    assert referral.code.coding[0].code == "detox"  # type: ignore[union-attr,index]
    # The person: only the incident code the provider was texted.
    person = referral.contained[0].model_dump()  # type: ignore[index]
    assert person["resourceType"] == "Patient"
    assert set(person) <= {"resourceType", "id", "identifier"}
    assert person["identifier"][0]["value"] == code
    text = referral.model_dump_json() + read.model_dump_json()
    for word in ("voices", "her son", "kitchen", "Bannock", "3035550100"):
        assert word not in text

    # Another provider's system finds nothing and reads nothing.
    async with desk.fhir("far") as client:
        none = Bundle.model_validate(_fhir_json(await client.get("/Task", params={"owner": near})))
        assert none.total == 0
        _outcome(await client.get(f"/Task/{task.id}"), 404)
        _outcome(await client.get(f"/ServiceRequest/{handoff_id}"), 404)
        refused = await client.patch(
            f"/Task/{task.id}",
            json=[{"op": "replace", "path": "/status", "value": "accepted"}],
            headers={"Content-Type": "application/json-patch+json"},
        )
        _outcome(refused, 404)
    # Staff see every referral; a search by time finds it, a later window does not.
    async with desk.fhir("dispatcher") as client:
        assert Bundle.model_validate(_fhir_json(await client.get("/Task"))).total == 1
        desk.clock.advance(60)
        later = desk.clock.now().isoformat().replace("+00:00", "Z")
        found = await client.get("/Task", params={"_lastUpdated": f"ge{later}"})
        assert Bundle.model_validate(_fhir_json(found)).total == 0
        _outcome(await client.get("/Task", params={"status": "bogus"}), 400)


async def test_a_provider_system_accepts_starts_and_completes_and_a_place_is_taken(
    desk: Desk,
) -> None:
    incident_id, handoff_id = await _ask(desk)
    task = await _only_task(desk, "near")
    patch = {"Content-Type": "application/json-patch+json"}
    async with desk.fhir("near") as client:
        accepted = await client.patch(
            f"/Task/{task.id}",
            json=[
                {"op": "test", "path": "/meta/versionId", "value": "1"},
                {"op": "replace", "path": "/status", "value": "accepted"},
            ],
            headers=patch,
        )
        assert Task.model_validate(_fhir_json(accepted)).status == "accepted"
        current = _fhir_json(await client.get(f"/Task/{task.id}"))
        started = await client.put(
            f"/Task/{task.id}",
            json={**current, "status": "in-progress"},
            headers={"If-Match": 'W/"2"'},
        )
        assert Task.model_validate(_fhir_json(started)).status == "in-progress"
        stale = await client.put(
            f"/Task/{task.id}",
            json={**current, "status": "completed"},
            headers={"If-Match": 'W/"2"'},
        )
        _outcome(stale, 412)
        done = await client.patch(
            f"/Task/{task.id}",
            json=[{"op": "replace", "path": "/status", "value": "completed"}],
            headers=patch,
        )
        assert Task.model_validate(_fhir_json(done)).status == "completed"
        # A completed Task goes nowhere: 409 with an OperationOutcome.
        again = await client.patch(
            f"/Task/{task.id}",
            json=[{"op": "replace", "path": "/status", "value": "in-progress"}],
            headers=patch,
        )
        assert _outcome(again, 409).issue[0].code == "conflict"
        # Only status and statusReason are the provider's to change.
        edited = await client.put(
            f"/Task/{task.id}", json={**current, "status": "completed", "intent": "plan"}
        )
        assert _outcome(edited, 422).issue[0].expression == ["Task.intent"]
        referral = ServiceRequest.model_validate(
            _fhir_json(await client.get(f"/ServiceRequest/{handoff_id}"))
        )
    assert referral.status == "completed"
    handoffs = (await desk.stack.dispatch.get(f"/v1/incidents/{incident_id}/handoffs")).json()
    assert handoffs[0]["status"] == "accepted"
    listed = {p["organization"]: p for p in (await desk.stack.dispatch.get("/v1/providers")).json()}
    assert listed["Near CARES"]["capacity"] == 1  # the same as "Y" by SMS
    kinds = [e["kind"] for e in (await incident(desk.stack.dispatch, incident_id))["timeline"]]
    assert "handoff.accepted" in kinds
    assert "referral.in-progress" in kinds
    assert "referral.completed" in kinds


async def test_a_provider_system_rejects_with_a_reason_and_the_next_provider_is_asked(
    desk: Desk,
) -> None:
    incident_id, _handoff_id = await _ask(desk)
    task = await _only_task(desk, "near")
    async with desk.fhir("near") as client:
        current = _fhir_json(await client.get(f"/Task/{task.id}"))
        no_reason = await client.put(f"/Task/{task.id}", json={**current, "status": "rejected"})
        assert _outcome(no_reason, 422).issue[0].expression == ["Task.statusReason.text"]
        bogus = await client.put(f"/Task/{task.id}", json={**current, "status": "bogus"})
        _outcome(bogus, 422)
        rejected = await client.put(
            f"/Task/{task.id}",
            json={**current, "status": "rejected", "statusReason": {"text": "no beds tonight"}},
        )
        body = Task.model_validate(_fhir_json(rejected))
    assert body.status == "rejected"
    assert body.statusReason.text == "no beds tonight"  # type: ignore[union-attr]

    handoff = (await desk.stack.dispatch.get(f"/v1/incidents/{incident_id}/handoffs")).json()[0]
    assert handoff["status"] == "offered"
    assert handoff["organization"] == "Far Detox"
    far_task = await _only_task(desk, "far", status="requested")
    assert far_task.owner.display == "Far Detox"  # type: ignore[union-attr]

    # The far provider answers by SMS instead (no system): its Task follows.
    code = (await incident(desk.stack.dispatch, incident_id))["code"]

    async def texted() -> bool:
        messages = (
            await desk.stack.notify.get("/v1/messages", params={"incident_id": incident_id})
        ).json()
        return any(m["to_masked"].endswith("0802") and m["status"] == "sent" for m in messages)

    await eventually(texted, what="the far provider texted")
    await desk.stack.notify.post(
        "/v1/console/sms/inbound", json={"from": "+17205550802", "body": f"Y {code}"}
    )

    async def accepted() -> Task | None:
        async with desk.fhir("far") as client:
            read = Task.model_validate(_fhir_json(await client.get(f"/Task/{far_task.id}")))
        return read if read.status == "accepted" else None

    await eventually(accepted, what="the far provider's Task accepted by SMS")


async def test_a_provider_that_lets_the_request_lapse_sees_it_cancelled(desk: Desk) -> None:
    await _ask(desk)
    task = await _only_task(desk, "near")
    desk.clock.advance(601)  # the policy's 10 minutes pass without an answer
    timers: TimerWorker = desk.stack.apps["dispatch"].state.timers
    assert await timers.fire_due() >= 1
    await desk.sign_in_again("near")
    async with desk.fhir("near") as client:
        lapsed = Task.model_validate(_fhir_json(await client.get(f"/Task/{task.id}")))
        assert lapsed.status == "cancelled"
        assert lapsed.statusReason is not None
        late = await client.patch(
            f"/Task/{task.id}",
            json=[{"op": "replace", "path": "/status", "value": "accepted"}],
            headers={"Content-Type": "application/json-patch+json"},
        )
        _outcome(late, 409)


async def test_fhir_routes_refuse_as_operation_outcomes_and_every_access_is_audited(
    desk: Desk,
) -> None:
    _incident_id, _handoff_id = await _ask(desk)
    task = await _only_task(desk, "near")
    async with desk.fhir("near") as client:
        _fhir_json(await client.get(f"/Task/{task.id}"))
        received = await client.patch(
            f"/Task/{task.id}",
            json=[{"op": "replace", "path": "/status", "value": "received"}],
            headers={"Content-Type": "application/json-patch+json"},
        )
        assert Task.model_validate(_fhir_json(received)).status == "received"
        wrong_type = await client.patch(f"/Task/{task.id}", json=[])
        _outcome(wrong_type, 415)
    async with desk.fhir("unit") as client:
        assert _outcome(await client.get(f"/Task/{task.id}"), 403).issue[0].code == "forbidden"
        anonymous = await client.get("/Task", headers={"Authorization": ""})
        assert _outcome(anonymous, 401).issue[0].code == "login"
    auditor = {"Authorization": f"Bearer {mint_token(['auditor'], name='aud')}"}
    expected = {
        ("client:near-cares-ehr", "GET /fhir/r4/Task/{task_id}", "200"),
        ("client:near-cares-ehr", "PATCH /fhir/r4/Task/{task_id}", "200"),
        ("unit-7", "GET /fhir/r4/Task/{task_id}", "403"),
    }

    async def recorded() -> set[tuple[str, str, str]] | None:
        found = await desk.stack.dispatch.get(
            "/v1/audit", params={"target_id": task.id}, headers=auditor
        )
        rows = {(r["actor"], r["action"], r["outcome"]) for r in found.json()}
        return rows if rows >= expected else None

    await eventually(recorded, what="FHIR reads and writes in the audit trail")


async def test_a_follow_up_visit_is_a_task_the_outreach_team_completes(desk: Desk) -> None:
    desk.keys["outreach"] = await _provider_key(desk.stack, "qrt-app", "Outreach team (default)")
    overdose = {**DEMO_CALL, "narrative": "friend nodding out, lips blue, used fentanyl"}
    incident_id = await submit(desk.stack.dispatch, {**overdose, "answers": {}})

    async def triaged() -> bool:
        view = await incident(desk.stack.dispatch, incident_id)
        return bool(view["triage"]) and "overdose" in view["triage"]["flags"]

    await eventually(triaged, what="the overdose triaged")
    closed = await desk.stack.dispatch.post(
        f"/v1/incidents/{incident_id}/close", json={"disposition": "transported"}
    )
    assert closed.status_code == 200, closed.text
    desk.clock.advance(48 * 3600 + 1)  # the policy's 48 h
    timers: TimerWorker = desk.stack.apps["dispatch"].state.timers
    assert await timers.fire_due() >= 1
    await desk.sign_in_again("outreach")
    await desk.sign_in_again("near")

    task = await _only_task(desk, "outreach", status="requested")
    assert task.owner.display == "Outreach team (default)"  # type: ignore[union-attr]
    visit_id = task.focus.reference.removeprefix("ServiceRequest/")  # type: ignore[union-attr]
    assert visit_id != incident_id
    assert (await incident(desk.stack.dispatch, visit_id))["source"] == "follow_up"
    async with desk.fhir("near") as client:  # a treatment provider does not see it
        _outcome(await client.get(f"/Task/{task.id}"), 404)
    patch = {"Content-Type": "application/json-patch+json"}
    async with desk.fhir("outreach") as client:
        visit = ServiceRequest.model_validate(
            _fhir_json(await client.get(f"/ServiceRequest/{visit_id}"))
        )
        assert visit.code.coding[0].code == "post_overdose_follow_up"  # type: ignore[union-attr,index]
        assert visit.priority == "routine"
        for status in ("accepted", "in-progress", "completed"):
            moved = await client.patch(
                f"/Task/{task.id}",
                json=[{"op": "replace", "path": "/status", "value": status}],
                headers=patch,
            )
            assert Task.model_validate(_fhir_json(moved)).status == status
        done = ServiceRequest.model_validate(
            _fhir_json(await client.get(f"/ServiceRequest/{visit_id}"))
        )
    assert done.status == "completed"
    kinds = [e["kind"] for e in (await incident(desk.stack.dispatch, visit_id))["timeline"]]
    assert "referral.completed" in kinds
