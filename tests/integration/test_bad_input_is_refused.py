"""Bad or unauthenticated requests get a clear problem+json answer and store nothing.

These tests only send requests, so they share one stack (and one event loop)
per module instead of paying a broker, databases and group joins per test.
"""

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
import yaml
from sqlalchemy import select

from schemas.envelope import EventType
from services.cli.stack import Tansu
from services.common.outbox import OutboxRecord
from services.common.policy_files import DEFAULT_POLICY_DIR
from tests.support.databases import sqlite_target
from tests.support.inprocess import DEMO_CALL, InProcessStack
from tests.support.waiting import eventually

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sqlite_stack(
    module_broker: Tansu, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[InProcessStack]:
    directory = tmp_path_factory.mktemp("bad-input")
    async with InProcessStack(
        module_broker.bootstrap, sqlite_target(directory), directory
    ) as running:
        yield running


async def _incident_count(stack: InProcessStack) -> int:
    return len((await stack.dispatch.get("/v1/incidents")).json())


def _without(mapping: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if k != key}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_without(DEMO_CALL, "narrative"), "narrative"),
        ({**DEMO_CALL, "narrative": "   "}, "narrative"),
        (_without(DEMO_CALL, "location"), "location"),
        ({**DEMO_CALL, "location": {"address": None}}, "location"),
        ({**DEMO_CALL, "location": {"lat": 139.7, "lon": -104.9}}, "location.lat"),
        ({**DEMO_CALL, "location": {"lat": 39.7}}, "location"),
        ({**DEMO_CALL, "answers": {"weapons": "maybe"}}, "answers.weapons"),
        ({**DEMO_CALL, "answers": {"weapon": True}}, "answers.weapon"),
        ({**DEMO_CALL, "caller": {"phone": "303-555-0100"}}, "caller.phone"),
        ({**DEMO_CALL, "source": "carrier pigeon"}, "source"),
        ({**DEMO_CALL, "jurisdiction": "Default County!"}, "jurisdiction"),
        # Lax coercion would read false as 0.0 (a point off Africa) and "39.7" as a number.
        ({**DEMO_CALL, "location": {"lat": False, "lon": -104.9}}, "location.lat"),
        ({**DEMO_CALL, "location": {"lat": 39.7, "lon": "-104.9"}}, "location.lon"),
        ({**DEMO_CALL, "answers": {"weapons": 0}}, "answers.weapons"),
    ],
)
async def test_invalid_call_is_422_naming_the_field(
    sqlite_stack: InProcessStack, body: dict[str, Any], field: str
) -> None:
    before = await _incident_count(sqlite_stack)
    response = await sqlite_stack.dispatch.post("/v1/calls", json=body)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 422
    assert field in [e["field"] for e in problem["errors"]]
    assert field in problem["detail"]
    assert await _incident_count(sqlite_stack) == before


async def test_malformed_json_is_422(sqlite_stack: InProcessStack) -> None:
    response = await sqlite_stack.dispatch.post(
        "/v1/calls", content=b'{"narrative": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("text", "field", "where"),
    [
        (
            '{"narrative": "x",\n "answers": {"weapons": tru}}',
            "answers.weapons",
            "line 2, column 25",
        ),
        ('{"narrative": "x", "location": {"lat": 39.7,, "lon": 1}}', "location", "column 45"),
        ("not json", "(body)", "line 1, column 1"),
    ],
)
async def test_malformed_json_names_the_field_it_broke_in_not_an_offset(
    sqlite_stack: InProcessStack, text: str, field: str, where: str
) -> None:
    response = await sqlite_stack.dispatch.post(
        "/v1/calls", content=text.encode(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    problem = response.json()
    assert problem["type"] == "/problems/validation-error"
    [error] = problem["errors"]
    assert error["field"] == field
    assert "malformed JSON" in error["message"]
    assert where in error["message"]


async def test_one_problem_type_per_kind_of_error(sqlite_stack: InProcessStack) -> None:
    """A client branches on ``type``: the same kind reads the same whoever raised it."""
    api = sqlite_stack.dispatch
    invalid = await api.post("/v1/calls", json={**DEMO_CALL, "source": "pigeon"})
    unprocessable = await api.post("/v1/calls", json={**DEMO_CALL, "jurisdiction": "atlantis"})
    bad_url = await api.get("/v1/incidents/a%00b")
    assert {r.json()["type"] for r in (invalid, unprocessable, bad_url)} == {
        "/problems/validation-error"
    }
    missing = [
        await api.get("/v1/incidents/nope"),
        await api.patch("/v1/providers/nope", json={"capacity": 2}),
        await api.get("/v1/no-such-route"),
    ]
    assert {r.json()["type"] for r in missing} == {"/problems/not-found"}
    anonymous = await api.get("/v1/incidents", headers={"Authorization": ""})
    assert anonymous.json()["type"] == "/problems/unauthenticated"
    wrong_method = await api.delete("/v1/incidents")
    assert wrong_method.json()["type"] == "/problems/method-not-allowed"


async def test_curl_default_content_type_is_read_as_json(sqlite_stack: InProcessStack) -> None:
    """`curl -d @call.json` sends application/x-www-form-urlencoded; the README relies on it."""
    response = await sqlite_stack.dispatch.post(
        "/v1/calls",
        content=json.dumps(DEMO_CALL).encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 202


# Every /v1 route of the three services. A new route must be added here (and
# get a role) for test_every_v1_route_is_in_the_auth_test to pass.
async def test_unknown_incident_is_404_problem(sqlite_stack: InProcessStack) -> None:
    response = await sqlite_stack.dispatch.get("/v1/incidents/nope")
    assert response.status_code == 404
    assert response.json()["detail"] == "no incident 'nope'"


async def test_call_for_a_jurisdiction_without_a_policy_is_422_and_stores_nothing(
    sqlite_stack: InProcessStack,
) -> None:
    """Stored, it would be triaged under the default policy but never dispatched."""
    before = await _incident_count(sqlite_stack)
    response = await sqlite_stack.dispatch.post(
        "/v1/calls", json={**DEMO_CALL, "jurisdiction": "atlantis"}
    )
    assert response.status_code == 422
    assert response.json()["detail"].startswith("jurisdiction: no policy for jurisdiction")
    assert await _incident_count(sqlite_stack) == before


async def test_unknown_provider_and_handoffs_of_an_unknown_incident_are_404(
    sqlite_stack: InProcessStack,
) -> None:
    patched = await sqlite_stack.dispatch.patch("/v1/providers/nope", json={"capacity": 2})
    assert patched.status_code == 404
    assert patched.json()["detail"] == "no provider 'nope'"
    listed = await sqlite_stack.dispatch.get("/v1/incidents/nope/handoffs")
    assert listed.status_code == 404
    assert listed.headers["content-type"] == "application/problem+json"


async def test_preview_for_unknown_jurisdiction_is_422(sqlite_stack: InProcessStack) -> None:
    response = await sqlite_stack.triage.post(
        "/v1/triage/preview", json={"narrative": "welfare check", "jurisdiction": "atlantis"}
    )
    assert response.status_code == 422
    assert "atlantis" in response.json()["detail"]


async def _triage_outbox(stack: InProcessStack) -> dict[str, str]:
    async with stack.runtime("triage").db.session() as session:
        rows = (await session.execute(select(OutboxRecord.event_id, OutboxRecord.event_type))).all()
    return {event_id: event_type for event_id, event_type in rows}


async def test_preview_has_no_side_effects(sqlite_stack: InProcessStack) -> None:
    # Calls an earlier test submitted are triaged first, so the events they cause
    # cannot be mistaken for the preview's (the test raced them before).
    async def all_triaged() -> bool:
        incidents = (await sqlite_stack.dispatch.get("/v1/incidents")).json()
        return all(i["status"] != "received" for i in incidents)

    await eventually(all_triaged, what="earlier calls triaged")
    before = await _incident_count(sqlite_stack)
    earlier = await _triage_outbox(sqlite_stack)
    response = await sqlite_stack.triage.post(
        "/v1/triage/preview", json={"narrative": "man with a gun yelling at neighbours"}
    )
    assert response.status_code == 200
    assert "police" in response.json()["roles"]
    assert await _incident_count(sqlite_stack) == before
    # Its only trace is the audit record of who asked.
    caused = {
        kind
        for event_id, kind in (await _triage_outbox(sqlite_stack)).items()
        if event_id not in earlier
    }
    assert caused == {EventType.AUDIT_RECORDED}


async def test_preview_lists_the_key_questions_of_a_call_it_cannot_settle(
    sqlite_stack: InProcessStack,
) -> None:
    response = await sqlite_stack.triage.post(
        "/v1/triage/preview", json={"narrative": "please send someone to 414 elm"}
    )
    assert response.status_code == 200
    decision = response.json()
    assert decision["needs_answers"] is True
    assert set(decision["roles"]) == {"police", "clinician"}  # provisional, never alone at P3
    first = decision["key_questions"][0]
    assert {"answer", "ask", "if_answer", "changes"} <= set(first)
    assert "weapons" in decision["answers_missing"]


async def test_policies_are_listed_from_their_files(sqlite_stack: InProcessStack) -> None:
    response = await sqlite_stack.triage.get("/v1/policies")
    assert response.status_code == 200
    by_name = {p["jurisdiction"]: p for p in response.json()}
    assert set(by_name) == {"default", "rural"}
    assert by_name["rural"]["programs"]["clinician"] is False
    on_disk = yaml.safe_load((DEFAULT_POLICY_DIR / "default.yaml").read_text())
    assert by_name["default"]["version"] == on_disk["version"]
