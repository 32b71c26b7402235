"""A real dispatch process, for CLI commands that talk to it over HTTP as an operator's would."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from services.cli.stack import ServiceProcess, Stack, StackConfig, free_port
from tests.support.databases import DatabaseTarget
from tests.support.inprocess import AUTH_SECRET, DATA_KEYS


@asynccontextmanager
async def dispatch_process(
    bootstrap: str, database: DatabaseTarget, data_dir: Path
) -> AsyncIterator[ServiceProcess]:
    stack = Stack(
        StackConfig(
            data_dir=data_dir,
            bootstrap_servers=bootstrap,
            auth_secret=AUTH_SECRET,
            data_keys=DATA_KEYS,
            ports={name: free_port() for name in ("dispatch", "triage", "notify")},
            database_urls=database.urls,
            database_schemas=database.schemas,
        )
    )
    dispatch = stack.services["dispatch"]
    await asyncio.to_thread(dispatch.start)
    try:
        await asyncio.to_thread(dispatch.wait_ready)
        yield dispatch
    finally:
        await asyncio.to_thread(dispatch.stop)
