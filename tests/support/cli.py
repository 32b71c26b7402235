"""Running the real ``corespond`` command as a separate process, as an operator would."""

import asyncio
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass

from tests.support.databases import DatabaseTarget


@dataclass
class Ran:
    code: int
    out: str
    err: str


async def corespond(*args: str, timeout_s: float = 60, env: Mapping[str, str] | None = None) -> Ran:
    """``env``: the command's whole environment (default: this process's)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.cli",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=dict(env) if env is not None else None,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout_s)
    assert process.returncode is not None
    return Ran(process.returncode, out.decode(), err.decode())


def operator_env(database: DatabaseTarget, service: str, **settings: str) -> dict[str, str]:
    """What an operator sets to run a command on ``service``'s database (plus ``settings``)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CORESPOND_") and k not in {"DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS"}
    }
    env["DATABASE_URL"] = database.url(service)
    schema = database.schema(service)
    if schema:
        env["CORESPOND_DATABASE_SCHEMA"] = schema
    env.update(settings)
    return env
