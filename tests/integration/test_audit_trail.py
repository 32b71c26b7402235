"""Who saw and changed what: every access is recorded, chained, searchable by auditors only.

Real broker, SQLite and PostgreSQL. Records come from all three services to
dispatch's chain; ``corespond audit verify`` finds tampering; purging old
records keeps the rest verifiable.
"""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio
from click.testing import CliRunner
from sqlalchemy import text

from services.cli.main import cli
from services.cli.stack import Tansu
from services.dispatch.app import audit_trail
from tests.support.clock import ManualClock
from tests.support.databases import DatabaseTarget
from tests.support.flow import submit
from tests.support.inprocess import DATA_KEYS, DEMO_CALL, InProcessStack, mint_token
from tests.support.waiting import eventually

AUDITOR = {"Authorization": f"Bearer {mint_token(['auditor'], name='ava-auditor')}"}
READER = {"Authorization": f"Bearer {mint_token(['dispatcher'], name='dev-dispatcher')}"}


@pytest_asyncio.fixture
async def clock() -> ManualClock:
    return ManualClock()


@pytest_asyncio.fixture
async def stack(
    broker: Tansu, database: DatabaseTarget, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[InProcessStack]:
    async with InProcessStack(broker.bootstrap, database, tmp_path, dispatch_clock=clock) as s:
        yield s


async def _trail(stack: InProcessStack, **params: Any) -> list[dict[str, Any]]:
    found = await stack.dispatch.get("/v1/audit", params=params, headers=AUDITOR)
    assert found.status_code == 200, found.text
    rows: list[dict[str, Any]] = found.json()
    return rows


async def _verify(
    stack: InProcessStack, database: DatabaseTarget, tmp_path: Path
) -> tuple[int, str]:
    """``corespond audit verify`` as an operator runs it, against dispatch's database."""
    env = {"CORESPOND_DATA_DIR": str(tmp_path), "CORESPOND_DATA_KEYS": DATA_KEYS}
    if database.url("dispatch"):
        env["DATABASE_URL"] = database.url("dispatch") or ""
    if database.schema("dispatch"):
        env["CORESPOND_DATABASE_SCHEMA"] = database.schema("dispatch") or ""
    args = ["audit", "verify", "--data-dir", str(tmp_path)]
    result = await asyncio.to_thread(CliRunner().invoke, cli, args, env=env)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


async def test_reads_and_changes_from_every_service_are_chained_and_verifiable(
    stack: InProcessStack, database: DatabaseTarget, tmp_path: Path
) -> None:
    incident_id = await submit(stack.dispatch, DEMO_CALL)
    read = await stack.dispatch.get(f"/v1/incidents/{incident_id}", headers=READER)
    assert read.status_code == 200
    await stack.triage.post(
        "/v1/triage/preview", json={"narrative": "man yelling", "answers": {}}, headers=READER
    )
    await stack.notify.get("/v1/messages", headers={"Authorization": "Bearer forged"})

    async def recorded() -> list[dict[str, Any]] | None:
        rows = await _trail(stack)
        services = {r["service"] for r in rows}
        return rows if {"dispatch", "triage", "notify"} <= services else None

    rows = await eventually(recorded, what="records from all three services")
    [seen] = [r for r in rows if r["action"] == "GET /v1/incidents/{incident_id}"]
    assert seen["actor"] == "dev-dispatcher"
    assert seen["roles"] == ["dispatcher"]
    assert seen["target_type"] == "incident"
    assert seen["target_id"] == incident_id
    assert seen["outcome"] == "200"
    assert seen["source_ip"]
    [submitted] = [r for r in rows if r["action"] == "POST /v1/calls"]
    assert submitted["actor"] == "test-admin"
    [refused] = [r for r in rows if r["service"] == "notify"]
    assert (refused["actor"], refused["outcome"]) == ("anonymous", "401")
    assert [r["seq"] for r in rows] == sorted(r["seq"] for r in rows)

    by_target = await _trail(stack, target_id=incident_id)
    assert {r["action"] for r in by_target} >= {"GET /v1/incidents/{incident_id}"}

    # Only auditors read it: not a dispatcher, not even an admin.
    assert (await stack.dispatch.get("/v1/audit", headers=READER)).status_code == 403
    assert (await stack.dispatch.get("/v1/audit")).status_code == 403

    code, output = await _verify(stack, database, tmp_path)
    assert code == 0, output
    assert "audit chain intact" in output

    # Someone with database access rewrites history: the chain says where.
    victim = seen["seq"]
    async with stack.runtime("dispatch").db.writing() as session:
        await session.execute(
            text("UPDATE audit_trail SET actor = 'someone-else' WHERE seq = :seq"), {"seq": victim}
        )
        await session.commit()
    code, output = await _verify(stack, database, tmp_path)
    assert code == 1
    assert f"BROKEN at record #{victim}" in output


async def test_purging_expired_records_keeps_the_chain_verifiable(
    stack: InProcessStack, database: DatabaseTarget, tmp_path: Path, clock: ManualClock
) -> None:
    await stack.dispatch.get("/v1/units")
    old = await eventually(lambda: _trail(stack), what="a first record")
    clock.advance(401 * 86400)
    await stack.dispatch.get("/v1/alerts")

    async def newer() -> list[dict[str, Any]] | None:
        rows = await _trail(stack, action="/v1/alerts")
        return rows or None

    await eventually(newer, what="a record 401 days later")
    async with stack.runtime("dispatch").unit_of_work() as uow:
        purged = await audit_trail.purge(uow, 400)
        await uow.commit()
    # Everything from before the jump (reading the trail is itself recorded, so maybe more).
    assert purged >= len(old)
    remaining = await _trail(stack)
    assert min(r["seq"] for r in remaining) == purged + 1
    assert not {r["seq"] for r in old} & {r["seq"] for r in remaining}
    code, output = await _verify(stack, database, tmp_path)
    assert code == 0, output
