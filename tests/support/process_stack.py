"""The whole stack as processes for one test: Tansu, then the services as `corespond up` runs them.

For the tests that kill or stop processes. Each service gets its database from
the test's target (SQLite files or migrated PostgreSQL schemas), and dispatch a
demo roster large enough that no call runs out of units.
"""

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

from services.cli.bench import demo_roster
from services.cli.stack import SERVICES, Stack, StackConfig, Tansu, free_port
from tests.support.databases import DatabaseTarget
from tests.support.inprocess import AUTH_SECRET, DATA_KEYS


@asynccontextmanager
async def process_stack(
    tmp_path: Path,
    database: DatabaseTarget,
    *,
    units_per_role: int,
    replicas: Mapping[str, int] | None = None,
) -> AsyncIterator[Stack]:
    roster = tmp_path / "roster.json"
    roster.write_text(json.dumps(demo_roster(units_per_role=units_per_role)))
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
                database_urls=database.urls,
                database_schemas=database.schemas,
                seed_roster=roster,
                replicas=replicas or {},
            )
        )
        try:
            await asyncio.to_thread(stack.start)
            yield stack
        finally:
            await asyncio.to_thread(stack.stop)
            tansu.stop()
