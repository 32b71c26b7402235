"""Housekeeping jobs (the retention purge) run at start and then at a fixed interval.

A failed run is logged and tried again at the next interval: housekeeping must
never take a service down, and the next run picks up whatever this one left.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable

from services.common.waits import wait_any

log = logging.getLogger(__name__)

DAILY_S = 24 * 60 * 60.0


def periodic(
    name: str, job: Callable[[], Awaitable[object]], every_s: float = DAILY_S
) -> Callable[[asyncio.Event], Awaitable[None]]:
    """A runtime worker running ``job`` now and every ``every_s`` until the service stops.

    It runs at start as well, so a service restarted more often than the interval
    still does the work.
    """

    async def run(stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            try:
                await job()
            except Exception as exc:  # DB away, for instance: the next run catches up
                log.warning(f"{name}.failed", extra={"error": repr(exc)})
            await wait_any(stopping, timeout_s=every_s)

    return run
