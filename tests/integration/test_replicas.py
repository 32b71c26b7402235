"""Three dispatch, two triage and two notify processes on one broker and PostgreSQL.

Replicas share each service's database and consumer group. One replica of each
service is killed (SIGKILL) a third of the way through a stream of calls and
started again at two thirds, so the groups rebalance twice while calls keep
arriving, spread over every live dispatch replica. Every call must still end
exactly once (tests/support/call_stream.py): no decision or SMS lost or
repeated, no unit offered twice.
"""

import asyncio
import itertools
import json
from pathlib import Path

import httpx
import pytest

from services.cli.stack import SERVICES, ServiceProcess, Stack
from tests.support.call_stream import (
    assert_each_call_handled_once,
    sample_call,
    wait_until_all_texted,
)
from tests.support.databases import DatabaseTarget
from tests.support.inprocess import AUTH
from tests.support.process_stack import process_stack

CALLS = 90
REPLICAS = {"dispatch": 3, "triage": 2, "notify": 2}
pytestmark = [pytest.mark.slow, pytest.mark.postgres]


async def test_replicas_share_the_work_and_survive_losing_one_each(
    postgres_db: DatabaseTarget, tmp_path: Path
) -> None:
    async with process_stack(
        tmp_path, postgres_db, units_per_role=CALLS, replicas=REPLICAS
    ) as stack:
        await _stream_calls(stack, postgres_db)


async def _stream_calls(stack: Stack, database: DatabaseTarget) -> None:
    victims = [stack.replicas[name][1] for name in SERVICES]
    live_dispatch = list(stack.replicas["dispatch"])
    incident_ids: list[str] = []
    async with httpx.AsyncClient(headers=AUTH, timeout=30) as client:
        turns = itertools.count()
        for i in range(CALLS):
            if i == CALLS // 3:
                for victim in victims:
                    victim.kill()
                live_dispatch.remove(victims[0])
            if i == 2 * CALLS // 3:
                await asyncio.gather(*(asyncio.to_thread(_restart, v) for v in victims))
                live_dispatch.append(victims[0])
            target = live_dispatch[next(turns) % len(live_dispatch)]
            response = await client.post(target.url + "/v1/calls", json=sample_call(i))
            assert response.status_code == 202, response.text
            incident_ids.append(response.json()["incident_id"])

        views = await wait_until_all_texted(client, stack.url("dispatch"), incident_ids)
        messages = (
            await client.get(stack.url("notify") + "/v1/messages", params={"limit": 1000})
        ).json()

    await assert_each_call_handled_once(views, messages, database, CALLS)
    # The groups really spread the work: every process handled events of its own.
    for process in stack.processes():
        handled = _log_events(process).count(WORK_EVENT[process.name])
        assert handled > 0, f"{process.log_path.name} handled nothing"


# What each service logs once per unit of work it did.
WORK_EVENT = {
    "triage": "triage.decided",
    "dispatch": "dispatch.triaged",
    "notify": "sms.console_sent",
}


def _log_events(process: ServiceProcess) -> list[str]:
    lines = process.log_path.read_text().splitlines()
    return [json.loads(line).get("event", "") for line in lines if line.startswith("{")]


def _restart(process: ServiceProcess) -> None:
    process.start()
    process.wait_ready(60)
