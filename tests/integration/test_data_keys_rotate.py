"""Rotating the master key: old values read under a new key; `keys rotate` frees the old one."""

from pathlib import Path

from sqlalchemy import select

from services.cli.stack import Tansu
from services.common.field_crypto import generate_key
from services.common.outbox import OutboxRecord
from services.triage.adapters.models import DecisionRecord
from tests.support.cli import corespond, operator_env
from tests.support.databases import DatabaseTarget
from tests.support.flow import incident, submit, until_texted
from tests.support.inprocess import DEMO_CALL, InProcessStack

SERVICES = ("dispatch", "triage", "notify")
BEFORE = {**DEMO_CALL, "narrative": "neighbour says he is hearing voices, no weapons, nobody hurt"}
DURING = {**DEMO_CALL, "narrative": "my brother is paranoid, no weapons, hasn't hurt anyone"}


def _use_keys(stack: InProcessStack, keys: str) -> None:
    for service in SERVICES:
        stack.overrides[service] = {"data_keys": keys}


async def _rotate(database: DatabaseTarget, keys: str, tmp_path: Path) -> str:
    out = []
    for service in SERVICES:
        env = operator_env(database, service, CORESPOND_DATA_KEYS=keys)
        ran = await corespond(
            "keys", "rotate", "--service", service, "--data-dir", str(tmp_path), env=env
        )
        assert ran.code == 0, ran.err
        out.append(ran.out)
    return "".join(out)


async def test_old_values_read_under_a_new_key_and_rotation_frees_the_old_one(
    broker: Tansu, database: DatabaseTarget, roster: Path, tmp_path: Path
) -> None:
    old, new = generate_key(), generate_key()
    stack = InProcessStack(broker.bootstrap, database, tmp_path, roster=roster)
    _use_keys(stack, old)
    await stack.start()
    try:
        first = await submit(stack.dispatch, BEFORE)
        await until_texted(stack.dispatch, first)
        await stack.stop()

        # Step 1: the new key first, the old one after it. Old values still read;
        # new ones are written under the new key.
        _use_keys(stack, f"{new},{old}")
        await stack.start()
        assert (await incident(stack.dispatch, first))["narrative"] == BEFORE["narrative"]
        second = await submit(stack.dispatch, DURING)
        await until_texted(stack.dispatch, second)
        await stack.stop()

        # Step 2: re-wrap what is stored under the new key (the ciphertext stays).
        report = await _rotate(database, f"{new},{old}", tmp_path)
        assert "dispatch: 0 values re-wrapped" not in report
        assert "triage: 0 values re-wrapped" not in report
        assert "remove the others" in report

        # Step 3: the old key removed; everything still reads.
        _use_keys(stack, new)
        await stack.start()
        for incident_id, call in ((first, BEFORE), (second, DURING)):
            view = await incident(stack.dispatch, incident_id)
            assert view["narrative"] == call["narrative"]
            assert view["caller"] == DEMO_CALL["caller"]
            assert view["triage"]["rationale"]
        async with stack.runtime("triage").db.session() as session:
            decisions = (await session.scalars(select(DecisionRecord))).all()
            assert {d.incident_id for d in decisions} == {first, second}
        for service in SERVICES:
            async with stack.runtime(service).db.session() as session:
                assert all(row.payload for row in await session.scalars(select(OutboxRecord)))
        third = await submit(stack.dispatch)
        await until_texted(stack.dispatch, third)

        # A second rotation finds nothing left to do.
        again = await _rotate(database, new, tmp_path)
        assert "dispatch: 0 values re-wrapped under the first key" in again
    finally:
        await stack.stop()
