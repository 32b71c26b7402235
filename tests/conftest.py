"""Fixtures: a real Tansu broker per test, databases (SQLite and PostgreSQL), rosters, stacks."""

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from services.cli.bench import demo_roster
from services.cli.stack import Tansu
from tests.support.databases import (
    DatabaseTarget,
    drop_schemas,
    migrate,
    postgres_target,
    require_postgres,
    sqlite_target,
)
from tests.support.inprocess import InProcessStack


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Tansu]:
    """A fresh Tansu on a free loopback port: no topics, offsets or groups from other tests."""
    with (tmp_path / "tansu.log").open("ab") as log:
        tansu = Tansu(log=log)
        tansu.start()
        try:
            yield tansu
        finally:
            tansu.stop()


@pytest.fixture(scope="module")
def module_broker() -> Iterator[Tansu]:
    """One broker for a module whose tests only send requests and can share a stack."""
    tansu = Tansu()
    tansu.start()
    yield tansu
    tansu.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DatabaseTarget]:
    """Every test using this runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield sqlite_target(tmp_path)
        return
    yield from _migrated_postgres()


@pytest.fixture
def sqlite_db(tmp_path: Path) -> DatabaseTarget:
    return sqlite_target(tmp_path)


@pytest.fixture
def postgres_db() -> Iterator[DatabaseTarget]:
    """PostgreSQL only, for tests about what only a server with row locks and replicas does."""
    yield from _migrated_postgres()


def _migrated_postgres() -> Iterator[DatabaseTarget]:
    # Fresh schemas brought to head as `corespond db upgrade` would; the services
    # then start in production's "check" mode against them.
    require_postgres()
    target = postgres_target()
    try:
        migrate(target)
        yield target
    finally:
        drop_schemas(target)


@pytest.fixture
def roster(tmp_path: Path) -> Path:
    """Enough units that no test call runs out (every unit has a phone)."""
    path = tmp_path / "roster.json"
    path.write_text(json.dumps(demo_roster(units_per_role=30)))
    return path


@pytest.fixture
async def stack(
    broker: Tansu, database: DatabaseTarget, roster: Path, tmp_path: Path
) -> AsyncIterator[InProcessStack]:
    async with InProcessStack(broker.bootstrap, database, tmp_path, roster=roster) as running:
        yield running


@pytest.fixture
async def sqlite_stack(
    broker: Tansu, sqlite_db: DatabaseTarget, roster: Path, tmp_path: Path
) -> AsyncIterator[InProcessStack]:
    async with InProcessStack(broker.bootstrap, sqlite_db, tmp_path, roster=roster) as running:
        yield running
