"""Outbound STA-024: corespond subscribes to a partner CAD's EIDO service and takes its incidents.

A PSAP whose CAD publishes EIDOs over NENA-STA-024 (rather than posting them to
``POST /v1/eido``) is reached the other way round: dispatch connects to its WebSocket,
``subscribe`` s (``requestSubType`` new), and every EIDO of every ``event`` goes through
``hand_over`` — the same app function ``POST /v1/eido`` uses, so a notification is checked,
triaged, dispatched and kept idempotent by its ``$id`` exactly as a posted EIDO is. Each
``event`` is answered with ``eventResponse``: 200 when every EIDO was taken, 400 naming the
index and JSON path of each that was not (the others are still taken: one bad document must
not hold up a call).

The connection is kept up by ``run``, a runtime worker: a refused subscription, a lost
connection or a ``terminate`` from the partner is followed by a new connection after a
backoff (``services.common.retry.Backoff``), so a partner restarting is not hammered and
replicas do not reconnect in step. On shutdown the subscription is ended with
``unsubscribe``. The partner's notifications are authenticated by the bearer token
corespond presents (the partner decides what it sends); incidents made from them are
handed over by ``subject``, whose name is on their timelines and in ``eido_references``.

Nothing is fetched but the configured URL; an EIDO's locations by reference are not
dereferenced (as for ``POST /v1/eido``).
"""

import asyncio
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

from schemas.eido import (
    EidoDocument,
    Event,
    NotifierMessage,
    event_response,
    subscribe_message,
    terminate_response,
    unsubscribe_message,
)
from services.common.auth import Principal, StaffRole
from services.common.outbox import UnitOfWork
from services.common.retry import Backoff
from services.common.waits import wait_any
from services.dispatch.adapters.eido_references import Collision
from services.dispatch.app.eido import hand_over
from services.dispatch.domain.eido_mapping import EidoRefused

log = logging.getLogger(__name__)

# STA-024 asks subscribers to accept messages of up to 64 KiB; an event of many EIDOs is
# larger, so allow what a busy CAD might send in one event, and no more.
MAX_MESSAGE = 4 * 1024 * 1024
OPEN_TIMEOUT_S = 10.0
# On shutdown: how long the partner has to answer unsubscribe before the socket closes.
UNSUBSCRIBE_WAIT_S = 2.0
MAX_STATUS_TEXT = 1000


class PartnerRefused(Exception):
    """The partner answered the subscription with a status other than 200."""


@dataclass
class EidoPartnerClient:
    """One subscription to one partner CAD's EIDO WebSocket service."""

    url: str
    token: str
    unit_of_work: Callable[[], UnitOfWork]
    subject: str = "eido-partner"
    jurisdiction: str = "default"
    backoff: Backoff = field(default_factory=lambda: Backoff(first_s=1.0, cap_s=60.0))
    # Observable state, for the tests and the logs: the live subscription, if any.
    subscription_id: str | None = None
    connected: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def principal(self) -> Principal:
        return Principal(subject=self.subject, roles=frozenset({StaffRole.CAD}), kind="client")

    async def run(self, stopping: asyncio.Event) -> None:
        """Stay subscribed until ``stopping``; reconnect after a backoff whenever it ends."""
        while not stopping.is_set():
            try:
                await self.session(stopping)
            except (OSError, TimeoutError, WebSocketException, PartnerRefused, ValueError) as exc:
                log.warning(
                    "dispatch.eido_partner_lost", extra={"url": self.url, "error": repr(exc)[:300]}
                )
            except Exception:
                # The database away mid-event, say: the event goes unanswered, the partner's
                # next one brings the whole EIDO again; the worker itself must not die.
                log.exception("dispatch.eido_partner_failed", extra={"url": self.url})
            finally:
                self.subscription_id = None
                self.connected.clear()
            if not stopping.is_set():
                await wait_any(stopping, timeout_s=self.backoff.next_delay())

    async def session(self, stopping: asyncio.Event) -> None:
        """One connection: subscribe, take events until terminated, closed or stopping."""
        async with connect(
            self.url,
            additional_headers={"Authorization": f"Bearer {self.token}"},
            proxy=None,  # only the configured host, never one from the environment
            open_timeout=OPEN_TIMEOUT_S,
            max_size=MAX_MESSAGE,
        ) as socket:
            request_id = uuid.uuid4().hex
            await socket.send(json.dumps(subscribe_message(request_id)))
            while True:
                text = await _receive(socket, stopping)
                if text is None:  # stopping: end the subscription politely
                    await self._unsubscribe(socket, request_id)
                    return
                message = NotifierMessage.model_validate(json.loads(text))
                if (answer := message.subscribeResponse) is not None:
                    if answer.statusCode != 200 or answer.subscriptionId is None:
                        raise PartnerRefused(f"{answer.statusCode} {answer.statusText or ''}")
                    self.subscription_id = answer.subscriptionId
                    self.backoff.reset()
                    self.connected.set()
                    log.info(
                        "dispatch.eido_partner_subscribed",
                        extra={"url": self.url, "subscription_id": answer.subscriptionId},
                    )
                elif message.event is not None:
                    await socket.send(json.dumps(await self.take(message.event)))
                elif (ended := message.terminate) is not None:
                    await socket.send(
                        json.dumps(terminate_response(ended.requestId, ended.subscriptionId, 200))
                    )
                    log.info(
                        "dispatch.eido_partner_terminated",
                        extra={"url": self.url, "reason": (ended.reason or "")[:200]},
                    )
                    return
                elif message.unsubscribeResponse is not None:
                    return

    async def take(self, event: Event) -> dict[str, Any]:
        """Hand every EIDO of ``event`` over; the ``eventResponse`` that answers it."""
        refused: list[str] = []
        for index, raw in enumerate(event.notification):
            try:
                document = EidoDocument.model_validate(raw)
                received = await hand_over(
                    self.unit_of_work, document, self.principal, self.jurisdiction
                )
            except ValidationError as invalid:
                first = invalid.errors()[0]
                where = ".".join(str(part) for part in first["loc"])
                refused.append(f"notification[{index}].{where}: {first['msg']}")
            except EidoRefused as error:
                where = ".".join(str(part) for part in error.path)
                refused.append(f"notification[{index}].{where}: {error.message}")
            except Collision:
                refused.append(f"notification[{index}]: try again (concurrent update)")
            else:
                log.info(
                    "dispatch.eido_partner_received",
                    extra={"incident_id": received.incident_id, "new_incident": received.created},
                )
        if refused:
            log.warning(
                "dispatch.eido_partner_refused",
                extra={"transaction_id": event.transactionId, "refused": len(refused)},
            )
            text = "; ".join(refused)[:MAX_STATUS_TEXT]
            return event_response(event.transactionId, 400, text)
        return event_response(event.transactionId, 200, "OK")

    async def _unsubscribe(self, socket: ClientConnection, request_id: str) -> None:
        if self.subscription_id is None:
            return
        try:
            await socket.send(json.dumps(unsubscribe_message(request_id, self.subscription_id)))
            async with asyncio.timeout(UNSUBSCRIBE_WAIT_S):
                while True:
                    message = json.loads(await socket.recv(decode=True))
                    if "unsubscribeResponse" in message:
                        return
        except (TimeoutError, ConnectionClosed, ValueError):
            return  # the partner will drop the subscription with the connection anyway


async def _receive(socket: ClientConnection, stopping: asyncio.Event) -> str | None:
    """The next text message, or None once ``stopping`` is set."""
    receiving = asyncio.ensure_future(socket.recv(decode=True))
    waiting = asyncio.ensure_future(stopping.wait())
    try:
        await asyncio.wait({receiving, waiting}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiting.cancel()
    if receiving.done():
        text = receiving.result()
        return text if isinstance(text, str) else text.decode()
    receiving.cancel()
    await asyncio.gather(receiving, return_exceptions=True)
    return None
