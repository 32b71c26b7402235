"""A housekeeping job run once a day (and once soon after start): retention purges."""

import asyncio
import logging
from collections.abc import Awaitable, Callable

from services.common.outbox import UnitOfWork

log = logging.getLogger(__name__)

DAY_S = 24 * 3600.0
FIRST_AFTER_S = 60.0  # not in the way of start-up


def daily(
    unit_of_work: Callable[[], UnitOfWork],
    job: Callable[[UnitOfWork], Awaitable[int]],
    name: str,
    *,
    first_after_s: float = FIRST_AFTER_S,
) -> Callable[[asyncio.Event], Awaitable[None]]:
    async def run(stopping: asyncio.Event) -> None:
        delay = first_after_s
        while True:
            try:
                await asyncio.wait_for(stopping.wait(), timeout=delay)
                return
            except TimeoutError:
                pass
            delay = DAY_S
            try:
                async with unit_of_work() as uow:
                    count = await job(uow)
                    await uow.commit()
                log.info("housekeeping.done", extra={"job": name, "count": count})
            except Exception:
                # Tomorrow is another try; a failed purge must not stop the service.
                log.exception("housekeeping.failed", extra={"job": name})

    return run
