"""Running the real ``corespond`` command as a separate process, as an operator would."""

import asyncio
import sys
from dataclasses import dataclass


@dataclass
class Ran:
    code: int
    out: str
    err: str


async def corespond(*args: str, timeout_s: float = 60) -> Ran:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.cli",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout_s)
    assert process.returncode is not None
    return Ran(process.returncode, out.decode(), err.decode())
