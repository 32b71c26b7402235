"""Creating POSTs retried with an ``Idempotency-Key`` create once and answer the same.

A CAD whose request was cut off cannot know whether it was stored; it sends
it again with the same key. Same key and body within 24 h: the first answer
again (status, body, Location), marked ``Idempotent-Replayed``. Same key, other
body: 422 naming the header. Keys are per client. The kill-mid-stream tests
(test_service_killed_mid_stream.py) do the same across a real crash.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from services.cli.stack import Tansu
from tests.support.databases import sqlite_target
from tests.support.inprocess import DEMO_CALL, InProcessStack, mint_token
from tests.support.raw_rows import count_rows

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(
    module_broker: Tansu, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[InProcessStack]:
    directory = tmp_path_factory.mktemp("idempotency")
    # Dispatch alone: every answer here is dispatch's, given once the call is stored.
    running = InProcessStack(module_broker.bootstrap, sqlite_target(directory), directory)
    await running.start("dispatch")
    try:
        yield running
    finally:
        await running.stop()


def _key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


async def _incidents(stack: InProcessStack) -> int:
    return await count_rows(stack.database, "dispatch", "incidents")


async def test_a_retried_call_gets_the_first_answer_and_makes_no_second_incident(
    stack: InProcessStack,
) -> None:
    before = await _incidents(stack)
    key = _key()
    first = await stack.dispatch.post("/v1/calls", json=DEMO_CALL, headers=key)
    again = await stack.dispatch.post("/v1/calls", json=DEMO_CALL, headers=key)

    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert await _incidents(stack) == before + 1


async def test_the_same_key_with_another_body_is_refused(stack: InProcessStack) -> None:
    key = _key()
    assert (await stack.dispatch.post("/v1/calls", json=DEMO_CALL, headers=key)).status_code == 202
    other = {**DEMO_CALL, "narrative": "a different call altogether"}
    before = await _incidents(stack)

    refused = await stack.dispatch.post("/v1/calls", json=other, headers=key)

    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert "Idempotency-Key" in refused.json()["detail"]
    assert await _incidents(stack) == before


async def test_retries_racing_each_other_create_one_incident(stack: InProcessStack) -> None:
    before = await _incidents(stack)
    key = _key()
    answers = await asyncio.gather(
        *(stack.dispatch.post("/v1/calls", json=DEMO_CALL, headers=key) for _ in range(8))
    )
    assert {a.status_code for a in answers} == {202}
    assert len({a.json()["incident_id"] for a in answers}) == 1
    assert await _incidents(stack) == before + 1


async def test_keys_belong_to_their_client(stack: InProcessStack) -> None:
    """Another call-taker's identical key is another request, not a replay."""
    key = _key()
    other = {"Authorization": f"Bearer {mint_token(['call_taker'], name='second-desk')}"}
    mine = await stack.dispatch.post("/v1/calls", json=DEMO_CALL, headers=key)
    theirs = await stack.dispatch.post("/v1/calls", json=DEMO_CALL, headers={**key, **other})
    assert mine.json()["incident_id"] != theirs.json()["incident_id"]


@pytest.mark.parametrize("key", ["", "x" * 256, "has space", "tab\there"])
async def test_a_malformed_key_is_refused_naming_the_header(
    stack: InProcessStack, key: str
) -> None:
    before = await _incidents(stack)
    refused = await stack.dispatch.post(
        "/v1/calls", json=DEMO_CALL, headers={"Idempotency-Key": key}
    )
    assert refused.status_code == 422, refused.text
    assert "Idempotency-Key" in refused.text
    assert await _incidents(stack) == before


def _unit(call_sign: str) -> dict[str, Any]:
    return {
        "call_sign": call_sign,
        "agency": "Idempotent County",
        "roles": ["clinician"],
        "phone": "+13035550199",
        "lat": 39.74,
        "lon": -104.99,
    }


def _provider(name: str) -> dict[str, Any]:
    return {
        "organization": name,
        "service": {"name": "Walk-in detox", "type": "detox"},
        "timezone": "America/Denver",
        "capacity": 3,
        "contact": {"phone": "+13035550142"},
    }


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/units", _unit("IDEM-1")),
        ("/v1/providers", _provider("Idempotent Recovery House")),
    ],
)
async def test_units_and_providers_are_created_once(
    stack: InProcessStack, path: str, body: dict[str, Any]
) -> None:
    key = _key()
    first = await stack.dispatch.post(path, json=body, headers=key)
    again = await stack.dispatch.post(path, json=body, headers=key)
    assert first.status_code == 201, first.text
    assert again.status_code == 201
    assert again.json() == first.json()
    listed = (await stack.dispatch.get(path)).json()
    assert len([row for row in listed if row["id"] == first.json()["id"]]) == 1


async def test_a_handoff_request_is_made_once(stack: InProcessStack) -> None:
    incident = (await stack.dispatch.post("/v1/calls", json=DEMO_CALL)).json()["incident_id"]
    key = _key()
    path = f"/v1/incidents/{incident}/handoffs"
    first = await stack.dispatch.post(path, json={"service": "detox"}, headers=key)
    again = await stack.dispatch.post(path, json={"service": "detox"}, headers=key)
    assert first.status_code == 201, first.text
    assert again.json() == first.json()
    assert len((await stack.dispatch.get(path)).json()) == 1


async def test_without_a_key_every_post_creates(stack: InProcessStack) -> None:
    before = await _incidents(stack)
    for _ in range(2):
        response: httpx.Response = await stack.dispatch.post("/v1/calls", json=DEMO_CALL)
        assert response.status_code == 202
    assert await _incidents(stack) == before + 2
