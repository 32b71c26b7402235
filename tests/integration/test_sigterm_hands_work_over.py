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

from tests.support.call_stream import (
    assert_each_call_handled_once,
    sample_call,
    wait_until_all_texted,
)
from tests.support.databases import DatabaseTarget
from tests.support.inprocess import AUTH
from tests.support.process_stack import process_stack

CALLS = 30
pytestmark = [pytest.mark.slow, pytest.mark.postgres]


async def test_a_replica_stopped_by_sigterm_exits_cleanly_and_hands_over(
    postgres_db: DatabaseTarget, tmp_path: Path
) -> None:
    replicas = {"triage": 2, "notify": 2}
    async with process_stack(
        tmp_path, postgres_db, units_per_role=CALLS, replicas=replicas
    ) as stack:
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
    await assert_each_call_handled_once(views, messages, postgres_db, CALLS)


def _events(log_path: Path) -> list[str]:
    lines = [line for line in log_path.read_text().splitlines() if line.startswith("{")]
    return [json.loads(line)["event"] for line in lines]
