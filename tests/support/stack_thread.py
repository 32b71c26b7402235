"""An InProcessStack on an event loop of its own thread, for test drivers that are synchronous.

Hypothesis (and schemathesis's pytest integration on top of it) calls a plain
function per example. The services' database engine, bus and locks belong to
the loop that started them, so every request is handed to that loop and the
caller waits for its answer; the stack keeps running between examples, its
relay and consumers included, exactly as under uvicorn.
"""

import asyncio
import threading
from collections.abc import Coroutine
from types import TracebackType
from typing import Any, TypeVar

import httpx

from tests.support.inprocess import InProcessStack

T = TypeVar("T")


class StackThread:
    def __init__(self, stack: InProcessStack) -> None:
        self.stack = stack
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="in-process-stack", daemon=True
        )

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` on the stack's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    def request(self, service: str, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self.run(self.stack.clients[service].request(method, url, **kwargs))

    def __enter__(self) -> "StackThread":
        self._thread.start()
        try:
            self.run(self.stack.start())
        except BaseException:
            self._close_loop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.run(self.stack.stop())
        finally:
            self._close_loop()

    def _close_loop(self) -> None:
        self.run(self._loop.shutdown_asyncgens())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()
