"""Opening each service's own database from the CLI, as the service itself would.

Each service reads its own settings: ``DATABASE_URL`` and
``CORESPOND_DATABASE_SCHEMA`` when set (production: run the command once per
service with that service's environment, ``--service <name>``), else the SQLite
file ``<data dir>/<service>.db`` that ``corespond up`` uses. The master keys come
from ``CORESPOND_DATA_KEYS`` or ``<data dir>/data-keys``.
"""

import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click
from pydantic import SecretStr
from sqlalchemy import MetaData

from services.cli.data_keys import configured_keys
from services.common.db import Database
from services.common.field_crypto import DataKeyError
from services.common.outbox import OutboxRecord
from services.common.settings import ServiceSettings
from services.dispatch.adapters.models import Base as DispatchTables
from services.notify.adapters.models import Base as NotifyTables
from services.triage.adapters.models import Base as TriageTables

F = TypeVar("F", bound=Callable[..., Any])

# Every service also has the shared tables (its outbox), which exist on the shared
# metadata only once their module is imported: named through OutboxRecord so they are.
SHARED = OutboxRecord.metadata
TABLES: dict[str, list[MetaData]] = {
    "dispatch": [SHARED, DispatchTables.metadata],
    "triage": [SHARED, TriageTables.metadata],
    "notify": [SHARED, NotifyTables.metadata],
}

data_dir_option = click.option(
    "--data-dir",
    type=click.Path(path_type=Path, file_okay=False),
    envvar="CORESPOND_DATA_DIR",
    default=Path(".corespond"),
    show_default=True,
    help="Where `corespond up` keeps the SQLite databases and the data-keys file.",
)


def service_option(services: tuple[str, ...]) -> Callable[[F], F]:
    return click.option(
        "--service",
        type=click.Choice([*services, "all"]),
        default="all",
        show_default=True,
        help="Whose database (each service owns one).",
    )


@dataclass
class ServiceDatabase:
    name: str
    settings: ServiceSettings
    db: Database


def chosen(service: str, services: tuple[str, ...]) -> list[str]:
    if service != "all":
        return [service]
    if os.environ.get("CORESPOND_DATABASE_SCHEMA"):
        raise click.UsageError(
            "CORESPOND_DATABASE_SCHEMA names one service's schema: use --service with it"
        )
    return list(services)


@asynccontextmanager
async def open_database(name: str, data_dir: Path) -> AsyncIterator[ServiceDatabase | None]:
    """The service's database with its keys; None when its SQLite file does not exist yet."""
    keys = configured_keys(data_dir)
    settings = ServiceSettings(
        service_name=name, data_dir=data_dir, data_keys=SecretStr(keys) if keys else None
    )
    if not settings.database_url and not (data_dir / f"{name}.db").exists():
        yield None
        return
    try:
        db = Database.from_settings(settings)
    except DataKeyError as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        yield ServiceDatabase(name, settings, db)
    finally:
        await db.dispose()
