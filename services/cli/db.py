"""``corespond db``: upgrade, inspect, downgrade and extend each service's schema (Alembic).

Each service's database is found as the service finds it (``DATABASE_URL`` and
``CORESPOND_DATABASE_SCHEMA``, else ``<data dir>/<service>.db``): in production
run ``corespond db upgrade <service>`` with that service's environment, before
starting it (services start in ``check`` mode there and refuse an old schema).
"""

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import click

from services.cli.service_databases import data_dir_option
from services.common import migrations
from services.common.db import Database
from services.common.settings import ServiceSettings

T = TypeVar("T")

SERVICE = click.Choice(migrations.SERVICES)


def service_settings(name: str, data_dir: Path) -> ServiceSettings:
    """``name``'s database settings from the environment, as the service reads them."""
    return ServiceSettings(service_name=name, data_dir=data_dir)


def schema_database(settings: ServiceSettings) -> Database:
    """The service's database for shaping its schema: no keys needed, none are read."""
    url = settings.resolved_database_url()
    if url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Database(url, schema=settings.database_schema or settings.service_name)


def chosen(service: str | None) -> list[str]:
    if service:
        return [service]
    if os.environ.get("CORESPOND_DATABASE_SCHEMA"):
        raise click.UsageError(
            "CORESPOND_DATABASE_SCHEMA names one service's schema: name that SERVICE too"
        )
    return list(migrations.SERVICES)


def _on_each(
    names: list[str], data_dir: Path, work: Callable[[str, Database], Awaitable[T]]
) -> list[T]:
    async def go() -> list[T]:
        results = []
        for name in names:
            db = schema_database(service_settings(name, data_dir))
            try:
                results.append(await work(name, db))
            finally:
                await db.dispose()
        return results

    try:
        return asyncio.run(go())
    except migrations.SchemaNotCurrent as exc:
        raise click.ClickException(exc.advice) from exc


def _where(db: Database) -> str:
    where = db.url.render_as_string(hide_password=True)
    return f"{where} (schema {db.schema})" if db.schema else where


@click.group()
def db() -> None:
    """Each service's database schema: upgrade, current, downgrade, stamp, revision."""


@db.command()
@click.argument("service", type=SERVICE, required=False, metavar="[SERVICE]")
@click.option("--revision", default="head", show_default=True, help="the revision to reach")
@data_dir_option
def upgrade(service: str | None, revision: str, data_dir: Path) -> None:
    """Upgrade SERVICE (all three when omitted) to head, or to --revision."""

    async def work(name: str, database: Database) -> str:
        await migrations.Migrations.of(name).upgrade(database, revision)
        return f"{name}: at {await migrations.current_revision(database)} — {_where(database)}"

    for line in _on_each(chosen(service), data_dir, work):
        click.echo(line)


@db.command()
@click.argument("service", type=SERVICE, required=False, metavar="[SERVICE]")
@click.option("--check", is_flag=True, help="exit with 1 unless every service named is at head")
@data_dir_option
def current(service: str | None, check: bool, data_dir: Path) -> None:
    """Each service's revision, and whether it is at head."""
    names = chosen(service)
    missing = [
        n
        for n in names
        if not service_settings(n, data_dir).database_url and not (data_dir / f"{n}.db").exists()
    ]

    async def work(name: str, database: Database) -> tuple[bool, str]:
        scripts = migrations.Migrations.of(name)
        try:
            await scripts.check_at_head(database)
            at_head, state = True, f"{scripts.head()} (head)"
        except migrations.SchemaNotCurrent as exc:
            at_head, state = False, f"{exc.state} (run: {exc.command})"
        return at_head, f"{name}: {state} — {_where(database)}"

    for name in missing:
        # Opening a SQLite file would create it: say so instead.
        click.echo(f"{name}: no database yet at {data_dir / f'{name}.db'}")
    present = [n for n in names if n not in missing]
    reports = _on_each(present, data_dir, work)
    for _, line in reports:
        click.echo(line)
    if check and (missing or not all(at_head for at_head, _ in reports)):
        raise SystemExit(1)


@db.command()
@click.argument("service", type=SERVICE, metavar="SERVICE")
@click.argument("revision")
@data_dir_option
def downgrade(service: str, revision: str, data_dir: Path) -> None:
    """Downgrade SERVICE to REVISION (``base`` drops its tables)."""

    async def work(name: str, database: Database) -> str:
        await migrations.Migrations.of(name).downgrade(database, revision)
        return f"{name}: at {await migrations.current_revision(database) or 'base'}"

    click.echo(_on_each([service], data_dir, work)[0])


@db.command()
@click.argument("service", type=SERVICE, metavar="SERVICE")
@click.argument("revision")
@data_dir_option
def stamp(service: str, revision: str, data_dir: Path) -> None:
    """Record that SERVICE's schema is at REVISION, running nothing.

    For a database whose tables were made before migrations (by create_all):
    `corespond db stamp SERVICE 0001` once, then upgrade as usual.
    """

    async def work(name: str, database: Database) -> str:
        await migrations.Migrations.of(name).stamp(database, revision)
        return f"{name}: stamped {await migrations.current_revision(database) or 'base'}"

    click.echo(_on_each([service], data_dir, work)[0])


@db.command()
@click.argument("service", type=SERVICE, metavar="SERVICE")
@click.option("-m", "--message", required=True, help="what the migration changes")
@click.option(
    "--autogenerate/--empty",
    default=True,
    show_default=True,
    help="compare the models with the database (at head) and write the difference",
)
@data_dir_option
def revision(service: str, message: str, autogenerate: bool, data_dir: Path) -> None:
    """Write SERVICE's next migration script (into a source checkout).

    Autogenerating compares the models with SERVICE's database, which must be at
    head: on a scratch data folder, `corespond db upgrade SERVICE` first.
    """

    async def work(name: str, database: Database) -> list[str]:
        scripts = migrations.Migrations.of(name)
        at = await migrations.current_revision(database)
        if autogenerate and at != scripts.head():
            # Compared with an older schema, the script would repeat earlier migrations.
            raise click.ClickException(
                f"{name}'s database is at {at or 'no revision'}, not head: "
                f"run corespond db upgrade {name} first"
            )
        return await scripts.new_revision(database, message, autogenerate)

    for path in _on_each([service], data_dir, work)[0]:
        click.echo(f"wrote {path}: read it, then run tests/integration/test_migrations.py")
