"""A local fake of a partner CAD's NENA-STA-024 EIDO WebSocket service, on 127.0.0.1.

Written from the spec's message shapes (PhrSite/EidoLib's WebSocket test files, STA-024.1a),
not from our own server, so the outbound client is checked against the protocol rather than
against itself: it takes ``subscribe``, answers ``subscribeResponse``, sends the queued
``event`` s and ``terminate`` s, and records every message the client sends. Nothing in the
tests calls an outside host.
"""

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

TOKEN = "partner-token-for-tests"


@dataclass
class FakeEidoPartner:
    """``outgoing`` holds what to send once a subscription stands; ``received`` what came."""

    token: str = TOKEN
    refuse_subscriptions: int = 0  # answer the first N subscriptions with 403
    outgoing: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    received: list[dict[str, Any]] = field(default_factory=list)
    refused_upgrades: int = 0
    subscriptions: list[str] = field(default_factory=list)
    port: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/eido"

    def event(self, notification: list[dict[str, Any]]) -> str:
        """Queue an ``event`` for the current subscription; its transaction id."""
        transaction_id = uuid.uuid4().hex
        self.outgoing.put_nowait(
            {"event": {"transactionId": transaction_id, "notification": notification}}
        )
        return transaction_id

    def terminate(self, reason: str) -> None:
        self.outgoing.put_nowait({"terminate": {"reason": reason}})

    def sent(self, key: str) -> list[dict[str, Any]]:
        """The bodies of the client's messages of kind ``key`` so far."""
        return [message[key] for message in self.received if key in message]

    async def _record(self, message: dict[str, Any]) -> None:
        self.received.append(message)
        self.changed.set()

    def _upgrade(self, connection: ServerConnection, request: Request) -> Response | None:
        # STA-024 authenticates the upgrade request; a refused one is an HTTP 403.
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            self.refused_upgrades += 1
            return connection.respond(HTTPStatus.FORBIDDEN, "Forbidden\n")
        return None

    async def _connection(self, socket: ServerConnection) -> None:
        subscription_id: str | None = None
        request_id: str | None = None
        sender: asyncio.Task[None] | None = None

        async def send_queued() -> None:
            while True:
                message = await self.outgoing.get()
                body = next(iter(message.values()))
                body["subscriptionId"] = subscription_id
                if "terminate" in message:
                    body["requestId"] = request_id
                await socket.send(json.dumps(message))

        try:
            async for text in socket:
                message = json.loads(text)
                await self._record(message)
                if "subscribe" in message:
                    request_id = message["subscribe"]["requestId"]
                    if self.refuse_subscriptions > 0:
                        self.refuse_subscriptions -= 1
                        await socket.send(
                            json.dumps(
                                {
                                    "subscribeResponse": {
                                        "requestId": request_id,
                                        "statusCode": 403,
                                        "statusText": "Forbidden",
                                    }
                                }
                            )
                        )
                        continue
                    subscription_id = uuid.uuid4().hex
                    self.subscriptions.append(subscription_id)
                    await socket.send(
                        json.dumps(
                            {
                                "subscribeResponse": {
                                    "requestId": request_id,
                                    "subscriptionId": subscription_id,
                                    "expires": 3600,
                                    "statusCode": 200,
                                    "statusText": "OK",
                                }
                            }
                        )
                    )
                    sender = asyncio.create_task(send_queued())
                elif "unsubscribe" in message:
                    await socket.send(
                        json.dumps(
                            {
                                "unsubscribeResponse": {
                                    "subscriptionId": message["unsubscribe"]["subscriptionId"],
                                    "statusCode": 200,
                                    "statusText": "OK",
                                }
                            }
                        )
                    )
                elif "terminateResponse" in message:
                    await socket.close()
        except ConnectionClosed:
            pass
        finally:
            if sender is not None:
                sender.cancel()

    @asynccontextmanager
    async def running(self) -> AsyncIterator["FakeEidoPartner"]:
        async with serve(self._connection, "127.0.0.1", 0, process_request=self._upgrade) as server:
            self.port = next(iter(server.sockets)).getsockname()[1]
            yield self

    async def until(self, what: str, predicate: Any, timeout_s: float = 30.0) -> None:
        """Wait until ``predicate()`` holds (checked whenever the client sends something)."""
        async with asyncio.timeout(timeout_s):
            while not predicate():
                self.changed.clear()
                if predicate():
                    return
                await self.changed.wait()
