"""GET /v1/stream over real HTTP: a change shows up, and a reconnecting client misses nothing."""

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.cli.stack import ServiceProcess, Tansu
from tests.support.databases import DatabaseTarget
from tests.support.dispatch_process import dispatch_process
from tests.support.inprocess import DEMO_CALL, mint_token

DESK = {"Authorization": f"Bearer {mint_token(['dispatcher'], name='stream-desk')}"}


@pytest.fixture
async def dispatch(
    broker: Tansu, sqlite_db: DatabaseTarget, tmp_path: Path
) -> AsyncIterator[ServiceProcess]:
    async with dispatch_process(broker.bootstrap, sqlite_db, tmp_path) as process:
        yield process


async def _events(
    response: httpx.Response,
) -> AsyncIterator[tuple[str, str | None, dict[str, Any]]]:
    kind, event_id, data = "message", None, ""
    async for line in response.aiter_lines():
        if line.startswith("event: "):
            kind = line[len("event: ") :]
        elif line.startswith("id: "):
            event_id = line[len("id: ") :]
        elif line.startswith("data: "):
            data = line[len("data: ") :]
        elif line == "" and data:
            yield kind, event_id, json.loads(data)
            kind, event_id, data = "message", None, ""


async def _submit(client: httpx.AsyncClient) -> str:
    response = await client.post("/v1/calls", json=DEMO_CALL, headers=DESK)
    assert response.status_code == 202, response.text
    incident_id: str = response.json()["incident_id"]
    return incident_id


async def test_a_new_call_is_announced_and_a_reconnect_resumes(dispatch: ServiceProcess) -> None:
    async with httpx.AsyncClient(base_url=dispatch.url, timeout=30) as client:
        async with client.stream("GET", "/v1/stream", headers=DESK) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            events = _events(response)
            kind, ready_id, _ = await anext(events)
            assert kind == "ready"
            first = await _submit(client)
            last_id = None
            async for kind, event_id, data in events:
                if kind == "incident" and first in data["incident_ids"]:
                    last_id = event_id
                    break
        assert last_id is not None
        # Disconnected: a call arrives meanwhile; resuming from the last id delivers it.
        missed = await _submit(client)
        headers = {**DESK, "Last-Event-ID": last_id}
        async with client.stream("GET", "/v1/stream", headers=headers) as response:
            events = _events(response)
            async for kind, _, data in events:
                if kind == "incident":
                    assert missed in data["incident_ids"]
                    assert first not in data["incident_ids"]
                    break
        # ?follow=false: what changed since the cursor, then the end of the response.
        caught_up = await client.get(
            "/v1/stream", params={"since": ready_id, "follow": "false"}, headers=DESK
        )
        assert first in caught_up.text
        assert missed in caught_up.text


async def test_a_disabled_users_stream_ends(dispatch: ServiceProcess) -> None:
    admin = {"Authorization": f"Bearer {mint_token(['admin'], name='stream-admin')}"}
    async with httpx.AsyncClient(base_url=dispatch.url, timeout=60) as client:
        created = await client.post(
            "/v1/users",
            json={
                "username": "stream-leaver",
                "display_name": "Leaver",
                "roles": ["dispatcher"],
                "password": "a long enough passphrase",
            },
            headers=admin,
        )
        assert created.status_code == 201, created.text
        user_id = created.json()["id"]
        token = mint_token(
            ["dispatcher"],
            name="stream-leaver",
            subject_id=user_id,
            now=datetime.now(UTC) - timedelta(seconds=5),  # issued before the disabling
        )
        headers = {"Authorization": f"Bearer {token}"}
        async with client.stream("GET", "/v1/stream", headers=headers) as response:
            events = _events(response)
            kind, _, _ = await anext(events)
            assert kind == "ready"
            disabled = await client.post(f"/v1/users/{user_id}/disable", headers=admin)
            assert disabled.status_code == 200, disabled.text
            # The next revocation check (with the heartbeat) ends the stream.
            kinds = [kind async for kind, _, _ in events]
        assert kinds[-1] == "expired"


async def test_a_unit_client_is_refused(dispatch: ServiceProcess) -> None:
    unit = {"Authorization": f"Bearer {mint_token(['unit'], name='stream-unit')}"}
    async with httpx.AsyncClient(base_url=dispatch.url, timeout=30) as client:
        assert (await client.get("/v1/stream", headers=unit)).status_code == 403
        assert (await client.get("/v1/stream")).status_code == 401
