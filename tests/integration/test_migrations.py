"""Each service's schema is built by its Alembic migrations, on SQLite and PostgreSQL alike.

The migrations build exactly the models (autogenerate finds nothing to add),
undo cleanly, and a service refuses to run on a schema that is not at head
unless it may upgrade it (``auto``); ``corespond db`` does the same by hand.
"""

import asyncio
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal, cast

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner, Result
from sqlalchemy import MetaData, inspect, text
from sqlalchemy.engine import Connection

from services.cli.main import cli
from services.common.db import Database
from services.common.migrations import (
    SERVICES,
    Migrations,
    SchemaNotCurrent,
    current_revision,
    migrate_mode,
    migration_options,
    target_metadata,
)
from services.common.runtime import ServiceRuntime
from services.common.settings import ServiceSettings
from services.triage.adapters.models import Base as TriageTables
from services.triage.main import TriageSettings
from tests.support.databases import (
    DatabaseTarget,
    drop_schemas,
    postgres_target,
    require_postgres,
    sqlite_target,
)
from tests.support.inprocess import DATA_KEYS


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DatabaseTarget]:
    """Databases with no schema at all (the ``database`` fixture's are migrated already)."""
    if request.param == "sqlite":
        yield sqlite_target(tmp_path)
        return
    require_postgres()
    target = postgres_target()
    try:
        yield target
    finally:
        drop_schemas(target)


def _open(target: DatabaseTarget, service: str) -> Database:
    return Database(target.url(service), schema=target.schema(service))


async def _tables(db: Database) -> set[str]:
    """Tables in the service's own schema (named, on PostgreSQL: not just the search path)."""

    def names(conn: Connection) -> set[str]:
        return set(inspect(conn).get_table_names(schema=db.schema))

    async with db.engine.connect() as conn:
        return await conn.run_sync(names)


def _model_tables(service: str) -> set[str]:
    return {name for metadata in target_metadata(service) for name in metadata.tables}


async def test_each_service_upgrades_from_nothing_and_downgrades_to_nothing(
    empty: DatabaseTarget,
) -> None:
    for service in SERVICES:
        db = _open(empty, service)
        try:
            scripts = Migrations.of(service)
            await scripts.upgrade(db)
            assert await current_revision(db) == scripts.head()
            assert await _tables(db) == _model_tables(service) | {"alembic_version"}

            await scripts.downgrade(db, "base")
            assert await current_revision(db) is None
            # Alembic keeps its (now empty) version table; nothing of ours is left.
            assert await _tables(db) <= {"alembic_version"}
        finally:
            await db.dispose()


async def test_the_migrations_build_exactly_the_models(empty: DatabaseTarget) -> None:
    for service in SERVICES:
        db = _open(empty, service)
        try:
            await Migrations.of(service).upgrade(db)

            def differences(conn: Connection, service: str = service) -> list[Any]:
                context = MigrationContext.configure(conn, opts=migration_options(service))
                # Alembic takes a sequence of MetaData here as in env.py; only the hint is narrow.
                models = cast(MetaData, target_metadata(service))
                found: list[Any] = compare_metadata(context, models)
                return found

            async with db.engine.connect() as conn:
                assert await conn.run_sync(differences) == [], service
        finally:
            await db.dispose()


def _triage_settings(
    target: DatabaseTarget, tmp_path: Path, mode: Literal["auto", "check"]
) -> TriageSettings:
    return TriageSettings(
        database_url=target.url("triage"),
        database_schema=target.schema("triage"),
        data_dir=tmp_path,
        data_keys=DATA_KEYS,
        db_migrate=mode,
        # Never reached: a refused start stops before the broker.
        kafka_bootstrap_servers="127.0.0.1:1",
    )


async def test_a_service_in_check_mode_refuses_a_database_without_its_schema(
    empty: DatabaseTarget, tmp_path: Path
) -> None:
    runtime = ServiceRuntime(_triage_settings(empty, tmp_path, "check"), [TriageTables.metadata])
    with pytest.raises(SchemaNotCurrent) as refused:
        async with runtime.lifespan(None):
            pass
    assert str(refused.value) == (
        "triage not started: its database has no schema — run: corespond db upgrade triage"
    )


async def test_auto_mode_upgrades_at_start(empty: DatabaseTarget, tmp_path: Path) -> None:
    runtime = ServiceRuntime(_triage_settings(empty, tmp_path, "auto"), [TriageTables.metadata])
    await runtime.start()
    try:
        assert await current_revision(runtime.db) == Migrations.of("triage").head()
        assert await _tables(runtime.db) == _model_tables("triage") | {"alembic_version"}
    finally:
        # No broker to wait for: the bus task is only retrying its connection.
        await runtime.stop(grace_s=0.1)


# This release's head and the one after it, whatever number triage has reached.
HEAD = Migrations.of("triage").head()
NEXT = f"{int(HEAD) + 1:04d}"

NEXT_REVISION = f'''"""A later release's change: triage keeps notes.

Revision ID: {NEXT}
Revises: {HEAD}
"""

import sqlalchemy as sa
from alembic import op

revision = "{NEXT}"
down_revision = "{HEAD}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("notes", sa.Column("id", sa.Integer(), primary_key=True))


def downgrade() -> None:
    op.drop_table("notes")
'''


@pytest.fixture
def next_release(tmp_path: Path) -> Migrations:
    """Triage's scripts plus one more, as the next release would ship them."""
    location = tmp_path / "next-release-migrations"
    shutil.copytree(
        Migrations.of("triage").location, location, ignore=shutil.ignore_patterns("__pycache__")
    )
    (location / "versions" / f"{NEXT}_notes.py").write_text(NEXT_REVISION)
    return Migrations("triage", location)


async def test_a_schema_behind_head_is_refused_in_check_mode_and_upgraded_in_auto(
    empty: DatabaseTarget, tmp_path: Path, next_release: Migrations
) -> None:
    db = _open(empty, "triage")
    try:
        await Migrations.of("triage").upgrade(db)  # this release's schema: HEAD

        with pytest.raises(SchemaNotCurrent) as refused:
            await next_release.prepare(db, "check")
        assert str(refused.value) == (
            f"triage not started: its database is at revision {HEAD} (head is {NEXT})"
            " — run: corespond db upgrade triage"
        )

        await next_release.prepare(db, "auto")
        assert await current_revision(db) == NEXT
        assert "notes" in await _tables(db)
    finally:
        await db.dispose()

    # Rolled back to this release, the service refuses a schema it does not know.
    runtime = ServiceRuntime(_triage_settings(empty, tmp_path, "check"), [TriageTables.metadata])
    with pytest.raises(SchemaNotCurrent, match=f"at revision {NEXT}, unknown to this release"):
        async with runtime.lifespan(None):
            pass

    db = _open(empty, "triage")
    try:
        await next_release.downgrade(db, "base")
        assert await _tables(db) <= {"alembic_version"}
    finally:
        await db.dispose()


def _service_env(target: DatabaseTarget, service: str) -> dict[str, str | None]:
    """What an operator sets to reach ``service``'s database (none of it on SQLite)."""
    if target.kind == "sqlite":
        return _service_env_sqlite()
    return {
        "DATABASE_URL": target.url(service),
        "CORESPOND_DATABASE_SCHEMA": target.schema(service),
    }


def _service_env_sqlite() -> dict[str, str | None]:
    return {"DATABASE_URL": None, "CORESPOND_DATABASE_SCHEMA": None}


def _corespond(args: list[str], env: dict[str, str | None]) -> Result:
    return CliRunner().invoke(cli, args, env={"CORESPOND_DB_MIGRATE": None, **env})


def test_corespond_db_upgrades_and_reports_each_service(
    empty: DatabaseTarget, tmp_path: Path
) -> None:
    data_dir = ["--data-dir", str(tmp_path)]
    for service in SERVICES:
        env = _service_env(empty, service)
        before = _corespond(["db", "current", service, *data_dir], env)
        assert before.exit_code == 0, before.output
        # SQLite: no file yet (and none made by asking); PostgreSQL: no schema.
        assert f"{service}: no database yet" in before.output or (
            f"{service}: has no schema" in before.output
        )

        head = Migrations.of(service).head()
        upgraded = _corespond(["db", "upgrade", service, *data_dir], env)
        assert upgraded.exit_code == 0, upgraded.output
        assert f"{service}: at {head}" in upgraded.output

        now = _corespond(["db", "current", service, "--check", *data_dir], env)
        assert now.exit_code == 0, now.output
        assert f"{service}: {head} (head)" in now.output

    notify = _service_env(empty, "notify")
    down = _corespond(["db", "downgrade", "notify", "base", *data_dir], notify)
    assert down.exit_code == 0, down.output
    behind = _corespond(["db", "current", "notify", "--check", *data_dir], notify)
    assert behind.exit_code == 1
    assert "notify: has no schema (run: corespond db upgrade notify)" in behind.output


def test_corespond_db_upgrade_without_a_service_upgrades_all_three(tmp_path: Path) -> None:
    result = _corespond(["db", "upgrade", "--data-dir", str(tmp_path)], _service_env_sqlite())
    assert result.exit_code == 0, result.output
    assert [line.split(":")[0] for line in result.output.splitlines()] == list(SERVICES)
    assert {p.name for p in tmp_path.glob("*.db")} == {f"{s}.db" for s in SERVICES}


def test_corespond_db_refuses_an_unknown_service(tmp_path: Path) -> None:
    for args in (["db", "upgrade", "billing"], ["db", "current", "billing"]):
        result = _corespond([*args, "--data-dir", str(tmp_path)], _service_env_sqlite())
        assert result.exit_code == 2
        assert "'billing' is not one of 'dispatch', 'triage', 'notify'" in result.output
    assert not list(tmp_path.iterdir())


def test_accounts_cli_refuses_a_production_database_without_its_schema(tmp_path: Path) -> None:
    """``corespond users add`` works on dispatch's database: in check mode, only at head."""
    require_postgres()
    target = postgres_target()
    try:
        env = {**_service_env(target, "dispatch"), "CORESPOND_DATA_KEYS": DATA_KEYS}
        args = ["users", "add", "robin", "--role", "dispatcher", "--data-dir", str(tmp_path)]
        refused = _corespond(args, env)
        assert refused.exit_code == 1
        assert "run: corespond db upgrade dispatch" in refused.output

        assert _corespond(["db", "upgrade", "dispatch"], env).exit_code == 0
        added = _corespond(args, env)
        assert added.exit_code == 0, added.output
        assert "user robin created" in added.output
    finally:
        drop_schemas(target)


def test_a_refused_service_process_says_why_and_exits_non_zero(
    empty: DatabaseTarget, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CORESPOND_")}
    env.update(
        {
            "DATABASE_URL": empty.url("triage"),
            "CORESPOND_DATA_DIR": str(tmp_path),
            "CORESPOND_DATA_KEYS": DATA_KEYS,
            "CORESPOND_DB_MIGRATE": "check",
        }
    )
    if empty.schema("triage"):
        env["CORESPOND_DATABASE_SCHEMA"] = empty.schema("triage") or ""
    done = subprocess.run(
        [sys.executable, "-m", "services.triage"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert done.stderr.strip() == (
        "triage not started: its database has no schema — run: corespond db upgrade triage"
    )


async def test_the_test_databases_are_migrated_as_in_production(database: DatabaseTarget) -> None:
    """The ``database`` fixture upgrades PostgreSQL first (services then start in check
    mode); SQLite files are left for the services to upgrade at start (auto)."""
    for service in SERVICES:
        db = _open(database, service)
        try:
            if database.kind == "sqlite":
                assert await current_revision(db) is None
            else:
                await Migrations.of(service).check_at_head(db)
                assert await _tables(db) == _model_tables(service) | {"alembic_version"}
        finally:
            await db.dispose()


async def test_a_database_made_before_migrations_is_stamped_not_rebuilt(
    empty: DatabaseTarget, tmp_path: Path
) -> None:
    """Tables made by the old create_all: refused with the way out, which then works."""
    db = _open(empty, "triage")
    try:
        async with db.engine.begin() as conn:
            if db.schema:
                await conn.execute(text(f'CREATE SCHEMA "{db.schema}"'))
            for metadata in target_metadata("triage"):
                await conn.run_sync(metadata.create_all)
        with pytest.raises(SchemaNotCurrent, match="corespond db stamp triage 0001"):
            await Migrations.of("triage").prepare(db, "auto")
    finally:
        await db.dispose()

    env = _service_env(empty, "triage")
    data_dir = ["--data-dir", str(tmp_path)]
    refused = await asyncio.to_thread(_corespond, ["db", "upgrade", "triage", *data_dir], env)
    assert refused.exit_code == 1
    assert "triage's database has tables (" in refused.output
    stamped = await asyncio.to_thread(_corespond, ["db", "stamp", "triage", "0001", *data_dir], env)
    assert stamped.exit_code == 0, stamped.output
    now = await asyncio.to_thread(_corespond, ["db", "current", "triage", *data_dir], env)
    # 0001 is the schema create_all made before migrations; later ones follow with
    # `corespond db upgrade` (not run here: these tables came from today's models).
    assert "triage: is at revision 0001" in now.output


def test_the_mode_defaults_to_auto_on_sqlite_and_check_elsewhere(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CORESPOND_DB_MIGRATE", raising=False)
    assert migrate_mode(ServiceSettings(database_url=None)) == "auto"
    assert migrate_mode(ServiceSettings(database_url="sqlite:///x.db")) == "auto"
    assert migrate_mode(ServiceSettings(database_url="postgresql://db/corespond")) == "check"
    monkeypatch.setenv("CORESPOND_DB_MIGRATE", "auto")
    assert migrate_mode(ServiceSettings(database_url="postgresql://db/corespond")) == "auto"
