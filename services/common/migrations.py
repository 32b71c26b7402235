"""Alembic migrations of each service's own database, run in code on its async engine.

Every service keeps its scripts in ``services/<service>/migrations`` (a package:
``target_metadata()`` in its ``__init__``, ``env.py`` and ``versions/`` beside
it, shipped as package data), and its ``alembic_version`` table in its own
database, or on PostgreSQL in its own schema: the connection's ``search_path``
(:class:`~services.common.db.Database`) puts every table there, the version
table included. No ``alembic.ini``: the configuration is built here.

At start a service either upgrades itself (``auto``, the embedded SQLite
default) or refuses to run on a schema that is not at head (``check``, the
default elsewhere): in production ``corespond db upgrade`` runs first, once.
"""

import asyncio
import importlib
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Literal
from weakref import WeakKeyDictionary

from alembic import command, context
from alembic.autogenerate.api import AutogenContext
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, inspect, text
from sqlalchemy.engine import Connection

from services.common.db import Database, RuntimeBase
from services.common.encrypted_columns import ENCRYPTED_TYPES
from services.common.settings import ServiceSettings

SERVICES = ("dispatch", "triage", "notify")

MigrateMode = Literal["auto", "check"]


class SchemaNotCurrent(RuntimeError):
    """The service's database is not at the head revision (check mode refuses to start)."""

    def __init__(self, service: str, state: str, command: str) -> None:
        self.service, self.state, self.command = service, state, command
        super().__init__(f"{service} not started: its database {state} — run: {command}")

    @property
    def advice(self) -> str:
        """The same, for a command line rather than a service start."""
        return f"{self.service}'s database {self.state} — run: {self.command}"


class NoMigrations(LookupError):
    """The named service has no migration scripts."""


def runtime_metadata() -> MetaData:
    """The tables every service has (outbox, inbox, revocations), all of them declared."""
    from services.common import inbox, outbox, revocations  # noqa: F401 - declare the tables

    return RuntimeBase.metadata


def _package(service: str) -> ModuleType:
    try:
        return importlib.import_module(f"services.{service}.migrations")
    except ModuleNotFoundError as exc:
        if exc.name and f"services.{service}.migrations".startswith(exc.name):
            raise NoMigrations(f"no migrations for a service named {service!r}") from exc
        raise


def target_metadata(service: str) -> list[MetaData]:
    """What ``service``'s schema at head must match: the shared tables and its own."""
    metadatas: list[MetaData] = _package(service).target_metadata()
    return metadatas


def script_location(service: str) -> Path:
    return Path(_package(service).__path__[0])


def _config(service: str, location: Path, connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(location))
    # 0001_initial.py, 0002_add_something.py: the order is readable in a listing.
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    config.attributes["service"] = service
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _format_with_ruff(config: Config) -> None:
    """A written script passes ``ruff check`` and ``ruff format`` (when ruff is installed)."""
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        return
    config.set_section_option("post_write_hooks", "hooks", "ruff_fix, ruff_format")
    for hook, options in (
        ("ruff_fix", "check --fix --quiet REVISION_SCRIPT_FILENAME"),
        ("ruff_format", "format --quiet REVISION_SCRIPT_FILENAME"),
    ):
        config.set_section_option("post_write_hooks", f"{hook}.type", "exec")
        config.set_section_option("post_write_hooks", f"{hook}.executable", ruff)
        config.set_section_option("post_write_hooks", f"{hook}.options", options)


# -- env.py ------------------------------------------------------------------


def render_item(kind: str, obj: Any, autogen: AutogenContext) -> str | Literal[False]:
    """Encrypted columns are rendered as their stored type (``sa.Text()``): a migration
    only shapes the table, and must not depend on how the application seals values."""
    if kind == "type" and isinstance(obj, ENCRYPTED_TYPES):
        return f"sa.{obj.impl_instance!r}"
    return False


def migration_options(service: str) -> dict[str, Any]:
    """What env.py, autogenerate and the tests configure alembic's context with."""
    return {
        "target_metadata": target_metadata(service),
        "render_item": render_item,
        "compare_type": True,
        "compare_server_default": False,
        # SQLite alters tables by copying them; harmless on PostgreSQL.
        "render_as_batch": True,
    }


def run_environment() -> None:
    """The body of every service's env.py: migrate on the connection the caller lent."""
    config = context.config
    service: str = config.attributes["service"]
    connection: Connection | None = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError(
            "run migrations with `corespond db upgrade`, not the alembic command "
            "(it lends the service's own connection)"
        )
    context.configure(connection=connection, **migration_options(service))
    with context.begin_transaction():
        context.run_migrations()


# -- running -----------------------------------------------------------------


@dataclass(frozen=True)
class Migrations:
    """One service's migration scripts, applied to its database."""

    service: str
    location: Path

    @classmethod
    def of(cls, service: str) -> "Migrations":
        """The scripts shipped in ``services/<service>/migrations``."""
        return cls(service, script_location(service))

    def config(self, connection: Connection | None = None) -> Config:
        return _config(self.service, self.location, connection)

    def scripts(self) -> ScriptDirectory:
        return ScriptDirectory.from_config(self.config())

    def head(self) -> str:
        head = self.scripts().get_current_head()
        assert head is not None, f"{self.service} has no migration scripts"
        return head

    def next_revision_id(self) -> str:
        """Revision ids count up (0001, 0002, ...): messages and file names read in order."""
        numbers = [int(r.revision) for r in self.scripts().walk_revisions() if r.revision.isdigit()]
        return f"{max(numbers, default=0) + 1:04d}"

    async def upgrade(self, db: Database, revision: str = "head") -> None:
        if await current_revision(db) is None and (tables := await _tables(db)):
            # Made by create_all before migrations: 0001 would fail on the first table.
            raise self._unversioned(tables)
        await _in_transaction(db, lambda conn: command.upgrade(self.config(conn), revision))

    async def stamp(self, db: Database, revision: str) -> None:
        """Record ``revision`` without running it: a schema that already has its tables."""
        await _in_transaction(db, lambda conn: command.stamp(self.config(conn), revision))

    async def downgrade(self, db: Database, revision: str) -> None:
        await _in_transaction(db, lambda conn: command.downgrade(self.config(conn), revision))

    async def new_revision(self, db: Database, message: str, autogenerate: bool) -> list[str]:
        """Write the next script (compared with ``db``, at head, when autogenerating);
        returns the paths written. The database itself is not changed."""
        written: list[str] = []

        def work(conn: Connection) -> None:
            config = self.config(conn)
            _format_with_ruff(config)
            scripts = command.revision(
                config,
                message=message,
                autogenerate=autogenerate,
                rev_id=self.next_revision_id(),
            )
            for script in scripts if isinstance(scripts, list) else [scripts]:
                if script is not None:
                    written.append(script.path)

        async with _one_alembic_run(), db.engine.connect() as conn:
            await conn.run_sync(work)
        return written

    async def check_at_head(self, db: Database) -> None:
        """Raise :class:`SchemaNotCurrent` naming the command that fixes it."""
        current = await current_revision(db)
        head = self.head()
        if current == head:
            return
        if current is None:
            if tables := await _tables(db):
                raise self._unversioned(tables)
            where = "has no schema"
        elif current not in {r.revision for r in self.scripts().walk_revisions()}:
            where = f"is at revision {current}, unknown to this release (head is {head})"
        else:
            where = f"is at revision {current} (head is {head})"
        raise SchemaNotCurrent(self.service, where, f"corespond db upgrade {self.service}")

    def _unversioned(self, tables: list[str]) -> SchemaNotCurrent:
        first = next(r.revision for r in self.scripts().walk_revisions() if r.down_revision is None)
        return SchemaNotCurrent(
            self.service,
            f"has tables ({', '.join(tables[:3])}, ...) but no revision: made before"
            f" migrations? If they are revision {first}'s",
            f"corespond db stamp {self.service} {first}, then corespond db upgrade {self.service}",
        )

    async def prepare(self, db: Database, mode: MigrateMode) -> None:
        """Bring the schema to head (auto) or refuse unless it is there (check)."""
        if mode == "auto" and await current_revision(db) != self.head():
            # Only when behind: at head nothing takes SQLite's write lock.
            await self.upgrade(db)
        await self.check_at_head(db)


# Alembic keeps the running migration in module globals (alembic.context, alembic.op):
# two runs interleaved on one event loop would mix their operations.
_ALEMBIC_RUNS: "WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock]" = WeakKeyDictionary()


def _one_alembic_run() -> asyncio.Lock:
    return _ALEMBIC_RUNS.setdefault(asyncio.get_running_loop(), asyncio.Lock())


async def _in_transaction(db: Database, work: Callable[[Connection], None]) -> None:
    """``work`` on one write transaction: all of a migration run or none of it."""
    async with _one_alembic_run(), db.writing() as session:
        conn = await session.connection()
        if db.schema:
            # Two replicas upgrading at once take turns; the second finds nothing to do.
            await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:s))"), {"s": db.schema})
            await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{db.schema}"'))
        await conn.run_sync(work)
        await session.commit()


async def _tables(db: Database) -> list[str]:
    """The service's tables, bar Alembic's (on PostgreSQL: in its schema, by search_path)."""

    def names(conn: Connection) -> list[str]:
        return sorted(set(inspect(conn).get_table_names()) - {"alembic_version"})

    async with db.engine.connect() as conn:
        return await conn.run_sync(names)


async def current_revision(db: Database) -> str | None:
    """The revision the database is at; None when it has no schema yet."""

    def read(conn: Connection) -> str | None:
        return MigrationContext.configure(conn).get_current_revision()

    async with db.engine.connect() as conn:
        return await conn.run_sync(read)


def migrate_mode(settings: ServiceSettings) -> MigrateMode:
    """``CORESPOND_DB_MIGRATE``, else ``auto`` on SQLite (embedded) and ``check`` elsewhere."""
    if settings.db_migrate is not None:
        return settings.db_migrate
    return "auto" if settings.resolved_database_url().startswith("sqlite") else "check"
