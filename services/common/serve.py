"""Run one service's app under uvicorn with its settings (``python -m services.<name>``).

uvicorn handles SIGTERM/SIGINT: it stops accepting, lets requests finish, and
runs the app's lifespan shutdown, which stops the consumer and flushes the relay.
"""

import asyncio

import uvicorn

from services.common import migrations
from services.common.db import Database
from services.common.field_crypto import DataKeyError, Keyring
from services.common.settings import ServiceSettings


async def _prepare_schema(settings: ServiceSettings) -> None:
    db = Database.from_settings(settings)
    try:
        await migrations.Migrations.of(settings.service_name).prepare(
            db, migrations.migrate_mode(settings)
        )
    finally:
        await db.dispose()


def serve(factory: str, settings: ServiceSettings) -> None:
    try:
        Keyring.from_setting(settings.data_keys.get_secret_value() if settings.data_keys else None)
        # The app's start does this too (at head by then, a quick look); done here
        # first so that a refusal is one line as well.
        asyncio.run(_prepare_schema(settings))
    except DataKeyError as exc:
        # A plain message and a non-zero exit, not a traceback from inside uvicorn.
        raise SystemExit(f"{settings.service_name} not started: {exc}") from None
    except migrations.SchemaNotCurrent as exc:
        raise SystemExit(str(exc)) from None
    uvicorn.run(
        factory,
        factory=True,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
    )
