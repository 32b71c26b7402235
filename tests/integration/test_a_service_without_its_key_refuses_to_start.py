"""A service refuses to start without its master key, or with one that cannot read its data."""

import asyncio
import os
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from services.cli.stack import Tansu
from services.common.field_crypto import InvalidDataKeys, MissingDataKeys, generate_key
from services.common.key_rotation import WrongDataKeys
from services.dispatch.main import DispatchSettings, create_app
from tests.support.cli import corespond
from tests.support.databases import DatabaseTarget
from tests.support.flow import submit, until_texted
from tests.support.inprocess import InProcessStack


def test_no_key_or_a_malformed_one_is_refused_at_once(tmp_path: Path) -> None:
    with pytest.raises(MissingDataKeys, match=r"CORESPOND_DATA_KEYS.*corespond keys generate"):
        create_app(DispatchSettings(data_dir=tmp_path, data_keys=None))
    with pytest.raises(InvalidDataKeys, match="key 1 of 1") as invalid:
        create_app(DispatchSettings(data_dir=tmp_path, data_keys="hunter2"))
    assert "hunter2" not in str(invalid.value)


async def test_a_service_process_without_a_key_says_what_to_set(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CORESPOND_")}
    env["CORESPOND_DATA_DIR"] = str(tmp_path)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.dispatch",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode != 0
    message = err.decode()
    assert "dispatch not started" in message
    assert "CORESPOND_DATA_KEYS" in message
    assert "corespond keys generate" in message
    assert "Traceback" not in message


async def test_keys_that_cannot_read_stored_data_stop_the_start(
    broker: Tansu, sqlite_db: DatabaseTarget, roster: Path, tmp_path: Path
) -> None:
    stack = InProcessStack(broker.bootstrap, sqlite_db, tmp_path, roster=roster)
    await stack.start()
    try:
        await until_texted(stack.dispatch, await submit(stack.dispatch))
    finally:
        await stack.stop()

    stack.overrides["dispatch"] = {"data_keys": generate_key()}
    with pytest.raises(WrongDataKeys, match=r"CORESPOND_DATA_KEYS cannot decrypt .* in \w+\.\w+"):
        await stack.start("dispatch")
    assert "dispatch" not in stack.apps


async def test_keys_generate_prints_a_usable_key() -> None:
    ran = await corespond("keys", "generate")
    assert ran.code == 0
    key = ran.out.strip()
    Fernet(key)  # a valid Fernet key
    assert (await corespond("keys", "generate")).out.strip() != key
