"""A service's database as someone holding the disk or a backup sees it: every row, plain SQL.

Nothing here goes through our models or keys, so what it returns is exactly
what is stored.
"""

import asyncio
import sqlite3
from pathlib import Path

from tests.support.databases import POSTGRES_URL, DatabaseTarget


async def raw_text(database: DatabaseTarget, service: str) -> str:
    """Every row of every table of ``service``'s database, as one text."""
    if database.kind == "sqlite":
        return await asyncio.to_thread(_sqlite_text, _sqlite_path(database, service))
    return await _postgres_text(database.schema(service) or service)


def sqlite_files(database: DatabaseTarget, service: str) -> list[Path]:
    """The database file and its WAL: the bytes on disk."""
    path = _sqlite_path(database, service)
    return [p for p in (path, path.with_name(path.name + "-wal")) if p.exists()]


def _sqlite_path(database: DatabaseTarget, service: str) -> Path:
    return Path(database.url(service).split("///", 1)[1])


def _sqlite_text(path: Path) -> str:
    with sqlite3.connect(path) as db:
        tables = [
            name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        # Table names come from the database's own catalogue, not from input.
        rows = [
            f"{table}: {row!r}"
            for table in tables
            for row in db.execute(f'SELECT * FROM "{table}"')  # noqa: S608
        ]
    return "\n".join(rows)


async def _postgres_text(schema: str) -> str:
    import asyncpg

    conn = await asyncpg.connect(POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        tables = [
            record["table_name"]
            for record in await conn.fetch(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = $1", schema
            )
        ]
        rows = [
            f"{table}: {dict(record)!r}"
            for table in tables
            for record in await conn.fetch(f'SELECT * FROM "{schema}"."{table}"')  # noqa: S608
        ]
    finally:
        await conn.close()
    return "\n".join(rows)


async def count_rows(database: DatabaseTarget, service: str, table: str) -> int:
    """How many rows ``table`` of ``service``'s database holds, counted in plain SQL."""
    if database.kind == "sqlite":
        return await asyncio.to_thread(_sqlite_count, _sqlite_path(database, service), table)
    import asyncpg

    schema = database.schema(service) or service
    conn = await asyncpg.connect(POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        # Table names come from the test, not from input.
        count = await conn.fetchval(f'SELECT count(*) FROM "{schema}"."{table}"')  # noqa: S608
    finally:
        await conn.close()
    return int(count)


def _sqlite_count(path: Path, table: str) -> int:
    with sqlite3.connect(path) as db:
        (count,) = db.execute(f'SELECT count(*) FROM "{table}"').fetchone()  # noqa: S608
    return int(count)
