"""SIGTERM (what Docker and Kubernetes send) stops a replica cleanly and its work moves on.

The stopping process finishes what it holds, stops its consumer (leaving its
group, so the partitions move at once rather than after a session timeout) and
exits; the calls that follow are handled by the replica that stays, and
none is lost or handled twice.
"""

import asyncio
import json
import signal
from pathlib import Path

import httpx
import pytest

from services.cli.bench import demo_roster
from services.cli.stack import SERVICES, Stack, StackConfig, Tansu, free_port
from tests.support.call_stream import (
    assert_each_call_handled_once,
    sample_call,
    wait_until_all_texted,
)
from tests.support.databases import DatabaseTarget
from tests.support.inprocess import AUTH, AUTH_SECRET, DATA_KEYS

CALLS = 30
pytestmark = [pytest.mark.slow, pytest.mark.postgres]


async def test_a_replica_stopped_by_sigterm_exits_cleanly_and_hands_over(
    postgres_db: DatabaseTarget, tmp_path: Path
) -> None:
    roster = tmp_path / "roster.json"
    roster.write_text(json.dumps(demo_roster(units_per_role=CALLS)))
    with (tmp_path / "tansu.log").open("ab") as log:
        tansu = Tansu(log=log)
        tansu.start()
        stack = Stack(
            StackConfig(
                data_dir=tmp_path,
                bootstrap_servers=tansu.bootstrap,
                auth_secret=AUTH_SECRET,
                data_keys=DATA_KEYS,
                ports={name: free_port() for name in SERVICES},
                database_urls=postgres_db.urls,
                database_schemas=postgres_db.schemas,
                seed_roster=roster,
                replicas={"triage": 2, "notify": 2},
            )
        )
        try:
            await asyncio.to_thread(stack.start)
            incident_ids: list[str] = []
            async with httpx.AsyncClient(headers=AUTH, timeout=30) as client:
                for i in range(CALLS):
                    if i == CALLS // 2:
                        for name in ("triage", "notify"):
                            leaving = stack.replicas[name][1]
                            await asyncio.to_thread(leaving.stop)
                            assert leaving.process is not None
                            # uvicorn shuts down gracefully, then re-raises the signal so
                            # a supervisor sees "terminated by SIGTERM" (143), not a crash.
                            assert leaving.process.returncode in (0, -signal.SIGTERM)
                            events = _events(leaving.log_path)
                            assert "service.stopped" in events, leaving.log_path
                            assert events[-1].startswith("Finished server process")
                    response = await client.post(
                        stack.url("dispatch") + "/v1/calls", json=sample_call(i)
                    )
                    assert response.status_code == 202, response.text
                    incident_ids.append(response.json()["incident_id"])
                views = await wait_until_all_texted(client, stack.url("dispatch"), incident_ids)
                messages = (
                    await client.get(stack.url("notify") + "/v1/messages", params={"limit": 500})
                ).json()
        finally:
            await asyncio.to_thread(stack.stop)
            tansu.stop()
    await assert_each_call_handled_once(views, messages, postgres_db, CALLS)


def _events(log_path: Path) -> list[str]:
    lines = [line for line in log_path.read_text().splitlines() if line.startswith("{")]
    return [json.loads(line)["event"] for line in lines]
