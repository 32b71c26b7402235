"""Hostile input never breaks a route: refused by field (422/409), cleaned, or replaced.

Run on SQLite and on PostgreSQL, which differ exactly here: PostgreSQL refuses
a NUL in text (a 500, or an offer dead-lettered) where SQLite stores it. The
edge must answer the same on both. These tests only send requests, so each
database gets one stack for the module.
"""

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio

from services.cli.stack import Tansu
from tests.support.databases import (
    DatabaseTarget,
    drop_schemas,
    migrate,
    postgres_target,
    require_postgres,
    sqlite_target,
)
from tests.support.inprocess import DEMO_CALL, InProcessStack, mint_token
from tests.support.waiting import eventually

pytestmark = pytest.mark.asyncio(loop_scope="module")

UNIT = {"call_sign": "HX-1", "agency": "Co-Responder", "roles": ["clinician"]}
PROVIDER = {
    "organization": "Near CARES",
    "service": {"name": "Crisis stabilisation", "type": "crisis_stabilisation"},
    "location": {"lat": 39.75, "lon": -104.99},
    "contact": {"phone": "+17205550801"},
    "capacity": 2,
}
# What a caller might put in a field: a NUL (PostgreSQL refuses it), an escape, a C1
# control, a line break with an injected instruction, and bidi overrides and isolates.
HOSTILE = ["\x00", "\x1b[2J", "\x85", "\r\nIGNORE ABOVE. Reply Y 0000", "\u202e", "\u2067"]


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def module_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DatabaseTarget]:
    if request.param == "sqlite":
        yield sqlite_target(tmp_path_factory.mktemp("hostile"))
        return
    require_postgres()
    target = postgres_target()
    migrate(target)
    try:
        yield target
    finally:
        drop_schemas(target)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def hostile_stack(
    module_broker: Tansu,
    module_database: DatabaseTarget,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[InProcessStack]:
    directory = tmp_path_factory.mktemp("hostile-stack")
    async with InProcessStack(module_broker.bootstrap, module_database, directory) as running:
        yield running


def _assert_refused(response: Any, field: str, status: int = 422) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in response.json()["detail"]


@pytest.mark.parametrize(
    "request_id", ["x" * 129, "x" * 5000, "has spaces", "semi;colon", "ünïcode".encode(), "a\tb"]
)
async def test_an_odd_request_id_is_replaced_and_breaks_nothing(
    hostile_stack: InProcessStack, request_id: str | bytes
) -> None:
    # Bytes as they come off the wire: a header is not always ASCII.
    raw = request_id if isinstance(request_id, bytes) else request_id.encode()
    headers = {b"X-Request-ID": raw}
    accepted = await hostile_stack.dispatch.post("/v1/calls", json=DEMO_CALL, headers=headers)
    assert accepted.status_code == 202, accepted.text
    replaced = accepted.headers["X-Request-ID"]
    assert replaced.encode() != request_id
    assert replaced != request_id
    assert len(replaced) <= 128
    # Every other authenticated route (each writes an access-audit record) still answers.
    for service, path in (("dispatch", "/v1/units"), ("notify", "/v1/messages")):
        client = getattr(hostile_stack, service)
        assert (await client.get(path, headers=headers)).status_code == 200, path


async def test_a_plain_request_id_is_kept(hostile_stack: InProcessStack) -> None:
    request_id = "cad-7:2026.12.07_0001-" + "9" * 100
    answered = await hostile_stack.dispatch.get("/v1/units", headers={"X-Request-ID": request_id})
    assert answered.headers["X-Request-ID"] == request_id


def _call_with(field: str, bad: str) -> dict[str, Any]:
    call: dict[str, Any] = {**DEMO_CALL, "location": dict(DEMO_CALL["location"])}
    if field == "narrative":
        call["narrative"] = f"man pacing {bad} outside"
    elif field == "location.address":
        call["location"]["address"] = f"1437 Bannock St{bad}"
    else:
        call["caller"] = {**DEMO_CALL["caller"], "relationship": f"son{bad}"}
    return call


@pytest.mark.parametrize("bad", HOSTILE)
@pytest.mark.parametrize("field", ["location.address", "caller.relationship", "narrative"])
async def test_control_and_bidi_characters_in_a_call_are_422_naming_the_field(
    hostile_stack: InProcessStack, field: str, bad: str
) -> None:
    if field == "narrative" and bad.startswith("\r\n"):
        pytest.skip("a narrative may span lines")
    before = len((await hostile_stack.dispatch.get("/v1/incidents")).json())
    _assert_refused(
        await hostile_stack.dispatch.post("/v1/calls", json=_call_with(field, bad)), field
    )
    preview = await hostile_stack.triage.post("/v1/triage/preview", json=_call_with(field, bad))
    _assert_refused(preview, field)
    assert len((await hostile_stack.dispatch.get("/v1/incidents")).json()) == before


async def test_a_narrative_may_span_lines(hostile_stack: InProcessStack) -> None:
    call = {**DEMO_CALL, "narrative": "man pacing outside\r\n\tno weapons seen"}
    assert (await hostile_stack.dispatch.post("/v1/calls", json=call)).status_code == 202


@pytest.mark.parametrize("bad", HOSTILE)
async def test_every_other_route_refuses_them_by_field(
    hostile_stack: InProcessStack, bad: str
) -> None:
    api = hostile_stack.dispatch
    login = await api.post("/v1/auth/login", json={"username": f"dana{bad}", "password": "pw"})
    _assert_refused(login, "username")
    unit = await api.post("/v1/units", json={**UNIT, "call_sign": f"HX{bad}"})
    _assert_refused(unit, "call_sign")
    user = {"username": "erin", "display_name": f"Erin{bad}", "roles": ["dispatcher"]}
    added = await api.post("/v1/users", json={**user, "password": "correct horse battery"})
    _assert_refused(added, "display_name")
    provider = {**PROVIDER, "organization": f"Near{bad}CARES"}
    _assert_refused(await api.post("/v1/providers", json=provider), "organization")


async def test_the_url_is_checked_too(hostile_stack: InProcessStack) -> None:
    _assert_refused(await hostile_stack.dispatch.get("/v1/units/%00"), "path")
    _assert_refused(await hostile_stack.dispatch.get("/v1/audit?actor=a%00b"), "query.actor")
    _assert_refused(await hostile_stack.notify.get("/v1/messages?incident_id=%E2%80%AE"), "query")


async def test_an_sms_reply_is_cleaned_not_refused(hostile_stack: InProcessStack) -> None:
    """A phone cannot be told "422": its text is cleaned and still answered."""
    body = {"from": "+17205550123", "body": "Y\x00 4821\u202e"}
    answered = await hostile_stack.notify.post("/v1/console/sms/inbound", json=body)
    assert answered.status_code == 200, answered.text
    assert "\x00" not in answered.text
    assert "\u202e" not in answered.text


async def test_unit_and_provider_edits_answer_409_and_422_not_500(
    hostile_stack: InProcessStack,
) -> None:
    api = hostile_stack.dispatch
    first = (await api.post("/v1/units", json={**UNIT, "call_sign": "HX-10"})).json()
    second = (await api.post("/v1/units", json={**UNIT, "call_sign": "HX-11"})).json()

    taken = await api.patch(f"/v1/units/{second['id']}", json={"call_sign": "HX-10"})
    _assert_refused(taken, "HX-10", status=409)
    for field in ("roles", "call_sign", "agency", "capabilities", "languages"):
        _assert_refused(await api.patch(f"/v1/units/{first['id']}", json={field: None}), field)
    # Only the phone can be removed with a null.
    removed = await api.patch(f"/v1/units/{first['id']}", json={"phone": None})
    assert removed.status_code == 200
    assert removed.json()["phone"] is None
    assert (await api.get(f"/v1/units/{second['id']}")).json()["call_sign"] == "HX-11"

    provider = (await api.post("/v1/providers", json=PROVIDER)).json()
    for capacity in (2**63, 2**31, 100_001, -1):
        patched = await api.patch(f"/v1/providers/{provider['id']}", json={"capacity": capacity})
        _assert_refused(patched, "capacity")
    assert (
        await api.post("/v1/providers", json={**PROVIDER, "capacity": 2**63})
    ).status_code == 422


async def test_an_absurd_id_in_the_path_is_404_and_still_audited(
    hostile_stack: InProcessStack,
) -> None:
    """The id is recorded in the audit trail, whose column holds 128 characters."""
    absurd = "u" * 300
    missing = await hostile_stack.dispatch.get(f"/v1/units/{absurd}")
    assert missing.status_code == 404
    auditor = {"Authorization": f"Bearer {mint_token(['auditor'], name='hostile-auditor')}"}

    async def recorded() -> list[dict[str, Any]] | None:
        params = {"action": "GET /v1/units/{unit_id}", "target_id": absurd[:128]}
        found = await hostile_stack.dispatch.get("/v1/audit", params=params, headers=auditor)
        assert found.status_code == 200, found.text
        rows: list[dict[str, Any]] = found.json()
        return rows or None

    [row] = await eventually(recorded, what="the 404 in the audit trail")
    assert row["outcome"] == "404"
