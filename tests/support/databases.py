"""Where each service's database lives in a test: SQLite files, or PostgreSQL schemas.

PostgreSQL tests use the machine's server (127.0.0.1:5432, database ``test``),
one fresh schema per service per test, dropped afterwards. When no server
answers they skip, unless ``CORESPOND_REQUIRE_POSTGRES=1`` (CI) makes that a
failure. Those schemas are migrated first (:func:`migrate`) and the services
start in ``check`` mode, as in production; SQLite files migrate at start (``auto``).
"""

import asyncio
import os
import socket
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from services.common import migrations
from services.common.db import Database

POSTGRES_URL = os.environ.get(
    "CORESPOND_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


def postgres_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


def require_postgres() -> None:
    if postgres_reachable():
        return
    if os.environ.get("CORESPOND_REQUIRE_POSTGRES") == "1":
        pytest.fail(
            "PostgreSQL is required (CORESPOND_REQUIRE_POSTGRES=1) but 127.0.0.1:5432 is closed"
        )
    pytest.skip("PostgreSQL not reachable on 127.0.0.1:5432")


@dataclass
class DatabaseTarget:
    kind: str
    urls: dict[str, str]
    schemas: dict[str, str] = field(default_factory=dict)

    def url(self, service: str) -> str:
        return self.urls[service]

    def schema(self, service: str) -> str | None:
        return self.schemas.get(service)


def sqlite_target(directory: Path) -> DatabaseTarget:
    return DatabaseTarget(
        "sqlite",
        {
            s: f"sqlite+aiosqlite:///{directory / (s + '.db')}"
            for s in ("dispatch", "triage", "notify")
        },
    )


def postgres_target() -> DatabaseTarget:
    prefix = "t" + uuid.uuid4().hex[:10]
    services = ("dispatch", "triage", "notify")
    return DatabaseTarget(
        "postgres",
        {s: POSTGRES_URL for s in services},
        {s: f"{prefix}_{s}" for s in services},
    )


def migrate(target: DatabaseTarget) -> None:
    """``corespond db upgrade`` for each service of ``target``."""

    async def upgrade_all() -> None:
        for service in target.urls:
            db = Database(target.url(service), schema=target.schema(service))
            try:
                await migrations.Migrations.of(service).upgrade(db)
            finally:
                await db.dispose()

    asyncio.run(upgrade_all())


def drop_schemas(target: DatabaseTarget) -> None:
    import asyncpg

    async def drop() -> None:
        dsn = POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://")
        conn = await asyncpg.connect(dsn)
        try:
            for schema in target.schemas.values():
                await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await conn.close()

    asyncio.run(drop())
