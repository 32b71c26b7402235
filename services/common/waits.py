"""Waiting on events without sleeping blindly: the background loops' one way to pause."""

import asyncio
from collections.abc import Awaitable


async def wait_any(*events: asyncio.Event, timeout_s: float | None = None) -> None:
    """Return when any of ``events`` is set, or after ``timeout_s`` (None: no limit)."""
    waiters = {asyncio.ensure_future(event.wait()) for event in events}
    try:
        await asyncio.wait(waiters, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


async def unless_stopping(work: Awaitable[None], stopping: asyncio.Event) -> bool:
    """Run ``work`` unless ``stopping`` is set first; True if the work finished."""
    task = asyncio.ensure_future(work)
    stop = asyncio.ensure_future(stopping.wait())
    await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
    stop.cancel()
    if task.done():
        task.result()
        return True
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return False
