"""Run one service's app under uvicorn with its settings (``python -m services.<name>``).

uvicorn handles SIGTERM/SIGINT: it stops accepting, lets requests finish, and
runs the app's lifespan shutdown, which stops the consumer and flushes the relay.
"""

import uvicorn

from services.common.settings import ServiceSettings


def serve(factory: str, settings: ServiceSettings) -> None:
    uvicorn.run(
        factory,
        factory=True,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
    )
