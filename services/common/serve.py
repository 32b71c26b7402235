"""Run one service's app under uvicorn with its settings (``python -m services.<name>``).

uvicorn handles SIGTERM/SIGINT: it stops accepting, lets requests finish, and
runs the app's lifespan shutdown, which stops the consumer and flushes the relay.
"""

import uvicorn

from services.common.field_crypto import DataKeyError, Keyring
from services.common.settings import ServiceSettings


def serve(factory: str, settings: ServiceSettings) -> None:
    try:
        Keyring.from_setting(settings.data_keys.get_secret_value() if settings.data_keys else None)
    except DataKeyError as exc:
        # A plain message and a non-zero exit, not a traceback from inside uvicorn.
        raise SystemExit(f"{settings.service_name} not started: {exc}") from None
    uvicorn.run(
        factory,
        factory=True,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
    )
