"""/healthz fails when a consumer stalls (and recovers with it); /readyz reports the parts."""

import sqlite3
from pathlib import Path

from services.cli.stack import Tansu
from tests.support.databases import DatabaseTarget
from tests.support.flow import submit, until_texted
from tests.support.inprocess import InProcessStack
from tests.support.waiting import eventually


async def test_probes_are_open_and_ok_on_a_healthy_stack(sqlite_stack: InProcessStack) -> None:
    for service, client in sqlite_stack.clients.items():
        request = client.build_request("GET", "/healthz")
        request.headers.pop("Authorization")
        health = await client.send(request)
        assert health.status_code == 200, service
        ready = await client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["checks"]["database"] == "ok"


async def test_healthz_fails_while_the_consumer_is_stuck_and_recovers(
    broker: Tansu, sqlite_db: DatabaseTarget, roster: Path, tmp_path: Path
) -> None:
    stack = InProcessStack(
        broker.bootstrap,
        sqlite_db,
        tmp_path,
        roster=roster,
        overrides={"triage": {"consumer_stall_after_s": 1.0}},
    )
    await stack.start()
    try:
        await _stall_and_recover(stack, tmp_path)
    finally:
        await stack.stop()


async def _stall_and_recover(stack: InProcessStack, tmp_path: Path) -> None:
    await until_texted(stack.dispatch, await submit(stack.dispatch))
    # Another process holds triage's database write lock: its consumer blocks
    # inside a handler, exactly what a wedged database looks like.
    lock = sqlite3.connect(tmp_path / "triage.db", timeout=1)
    lock.execute("BEGIN IMMEDIATE")
    try:
        await submit(stack.dispatch)

        async def unhealthy() -> bool:
            response = await stack.triage.get("/healthz")
            return (
                response.status_code == 503 and response.json()["checks"]["consumer"] == "stalled"
            )

        await eventually(unhealthy, timeout_s=20, what="triage /healthz to report a stall")
    finally:
        lock.rollback()
        lock.close()

    async def healthy() -> bool:
        return (await stack.triage.get("/healthz")).status_code == 200

    await eventually(healthy, timeout_s=40, what="triage to recover")
