"""CAD interop over NENA EIDO: ``POST /v1/eido`` in, ``GET /EIDO/{id}`` out, and STA-024 conveyance.

- ``POST /v1/eido`` (``application/emergency.eido+json`` or JSON): a CAD hands an incident
  over. 201 with the new incident, 200 when the ``$id`` is already an incident (a repeat
  changes nothing; a newer ``lastUpdateTimeStamp`` adds its new notes). A document that does
  not validate, has a ``$ref`` to no ``$id``, or has no location readable by value is refused
  with 422 problem+json whose ``errors[].field`` is the JSON path; nothing is written.
- ``GET /EIDO/{id}`` (STA-024 dereference; ``id`` is the EIDO ``$id`` a CAD knows or
  corespond's incident id) and ``GET /v1/incidents/{id}/eido``: the incident as an EIDO.
- ``WS /v1/eido/subscriptions``: STA-024 subscribe/notify. Authenticated on the upgrade
  request like every route (``Authorization: Bearer``; a CAD exchanges its API key at
  ``/v1/auth/token``), so no token travels in a URL or a message. Messages:
  ``subscribe`` → ``subscribeResponse`` (``subscriptionId``, ``expires``); then an ``event``
  ``{subscriptionId, transactionId, notification: [EIDO...]}`` at once (active incidents, or
  the one incident) and on every change, driven by the same timeline change feed as the
  console's ``/v1/stream``; the subscriber answers ``eventResponse``; ``unsubscribe`` →
  ``unsubscribeResponse``; the server sends ``terminate`` when the token expires or is
  revoked, then closes.

Who sees what: desk roles (dispatcher, supervisor) any incident, with the caller's number and
the narrative; a ``cad`` client only the incidents it handed over, with neither (see
``domain/eido_mapping.py``).
"""

import asyncio
import json
import logging
import uuid
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, WebSocket, WebSocketDisconnect, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from schemas.api import Problem
from schemas.eido import (
    EIDO_MEDIA_TYPE,
    EidoDocument,
    SubscriberMessage,
    event_message,
    subscribe_response,
    terminate_message,
    unsubscribe_response,
)
from services.common import audit
from services.common.auth import Principal, StaffRole, require_roles
from services.common.revocations import is_revoked
from services.common.runtime import ServiceRuntime
from services.common.tokens import Claims, TokenKeys
from services.dispatch.api.deps import Context, Runtime
from services.dispatch.app.changes import incident_changes, latest_position
from services.dispatch.app.eido import (
    active_incidents,
    hand_over,
    incident_eido,
    readable_incidents,
)
from services.dispatch.domain.change_feed import ChangeCursor
from services.dispatch.domain.eido_mapping import EidoRefused, Issuer
from services.dispatch.domain.errors import IncidentNotFound, Unprocessable

log = logging.getLogger(__name__)
router = APIRouter(tags=["eido"])

READERS = (StaffRole.CAD, StaffRole.DISPATCHER, StaffRole.SUPERVISOR)
EidoSender = Annotated[
    Principal,
    Depends(
        require_roles(
            StaffRole.CAD, StaffRole.CALL_TAKER, StaffRole.DISPATCHER, StaffRole.SUPERVISOR
        )
    ),
]
EidoReader = Annotated[Principal, Depends(require_roles(*READERS))]

POLL_S = 1.0
EXPIRES_S = 3600
MAX_MESSAGE = 65536  # STA-024: subscriptions of up to 64 KiB must be accepted
ACTIVE_LIMIT = 200


class EidoAccepted(BaseModel):
    incident_id: str
    eido_id: str
    created: bool
    href: str
    eido_href: str


def _issuer(app: Any) -> Issuer:
    issuer: Issuer = app.state.eido_issuer
    return issuer


def _refuse(path: tuple[str | int, ...], message: str) -> RequestValidationError:
    return RequestValidationError(
        [{"loc": ("body", *path), "msg": message, "type": "value_error", "input": None}]
    )


@router.post(
    "/v1/eido",
    response_model=EidoAccepted,
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"model": EidoAccepted, "description": "already an incident (repeat or update)"},
        422: {"model": Problem, "description": "not a usable EIDO; errors name the JSON path"},
    },
    openapi_extra={
        "requestBody": {
            "content": {EIDO_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/EidoDocument"}}}
        }
    },
)
async def receive(
    document: EidoDocument,
    who: EidoSender,
    runtime: Runtime,
    context: Context,
    jurisdiction: Annotated[
        str,
        Query(
            pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$",
            description="whose policy triages and dispatches it (a CAD serving several)",
        ),
    ] = "default",
) -> JSONResponse:
    # As for POST /v1/calls: a call no policy can dispatch is refused at the door.
    if jurisdiction not in context.policies:
        known = ", ".join(sorted(p.jurisdiction for p in context.policies))
        raise Unprocessable(
            "jurisdiction", f"no policy for jurisdiction {jurisdiction!r}; known: {known}"
        )
    try:  # hand_over checks $id and $ref integrity first, naming the path
        received = await hand_over(runtime.unit_of_work, document, who, jurisdiction)
    except EidoRefused as refused:
        raise _refuse(refused.path, refused.message) from None
    log.info(
        "dispatch.eido_received",
        extra={"incident_id": received.incident_id, "new_incident": received.created},
    )
    body = EidoAccepted(
        incident_id=received.incident_id,
        eido_id=document.id,
        created=received.created,
        href=f"/v1/incidents/{received.incident_id}",
        eido_href=f"/EIDO/{received.incident_id}",
    )
    return JSONResponse(
        body.model_dump(mode="json"),
        status_code=status.HTTP_201_CREATED if received.created else status.HTTP_200_OK,
        headers={"Location": body.href},
    )


_EIDO_OUT: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {EIDO_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/EidoDocument"}}},
        "description": "the incident as an EIDO",
    },
    404: {"model": Problem},
}


async def _eido_response(
    request: Request, runtime: ServiceRuntime, key: str, who: Principal
) -> JSONResponse:
    async with runtime.db.session() as session:
        document = await incident_eido(session, key, who, _issuer(request.app))
    return JSONResponse(
        document.wire(), media_type=EIDO_MEDIA_TYPE, headers={"Cache-Control": "no-store"}
    )


@router.get("/EIDO/{eido_id:path}", response_class=JSONResponse, responses=_EIDO_OUT)
async def dereference(
    eido_id: str, request: Request, who: EidoReader, runtime: Runtime
) -> JSONResponse:
    return await _eido_response(request, runtime, eido_id[:255], who)


@router.get("/v1/incidents/{incident_id}/eido", response_class=JSONResponse, responses=_EIDO_OUT)
async def incident_as_eido(
    incident_id: str, request: Request, who: EidoReader, runtime: Runtime
) -> JSONResponse:
    return await _eido_response(request, runtime, incident_id, who)


# --- STA-024 conveyance ------------------------------------------------------------------


@dataclass
class Subscription:
    request_id: str
    incident_id: str | None  # None: every incident the subscriber may read ("new")


@dataclass
class Connection:
    socket: WebSocket
    who: Principal
    claims: Claims
    issuer: Issuer
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    unanswered: set[str] = field(default_factory=set)


async def _principal(socket: WebSocket, runtime: ServiceRuntime) -> tuple[Principal, Claims] | None:
    """The verified caller of the upgrade request, if it may subscribe."""
    keys: TokenKeys | None = socket.app.state.token_keys
    scheme, _, token = socket.headers.get("authorization", "").partition(" ")
    if keys is None or scheme.lower() != "bearer":
        return None
    claims = keys.verify(token.strip(), runtime.clock.now())
    if claims is None:
        return None
    async with runtime.db.session() as session:
        if await is_revoked(session, claims):
            return None
    roles = frozenset(StaffRole(r) for r in claims.roles if r in StaffRole.__members__.values())
    who = Principal(
        subject=claims.name, roles=roles, kind=claims.kind, subject_id=claims.subject_id
    )
    return (who, claims) if who.has_any(frozenset(READERS)) else None


async def _send(
    connection: Connection,
    subscription_id: str,
    incident_ids: list[str],
    runtime: ServiceRuntime,
    *,
    even_empty: bool = False,
) -> None:
    documents = []
    async with runtime.db.session() as session:
        for incident_id in await readable_incidents(session, incident_ids, connection.who):
            try:
                document = await incident_eido(
                    session, incident_id, connection.who, connection.issuer
                )
            except IncidentNotFound:
                continue  # purged or never visible: nothing to tell
            documents.append(document.wire())
    if not documents and not even_empty:
        return  # changes to incidents this subscriber may not read
    transaction_id = uuid.uuid4().hex
    connection.unanswered.add(transaction_id)
    await connection.socket.send_json(event_message(subscription_id, transaction_id, documents))


async def _active(runtime: ServiceRuntime) -> list[str]:
    async with runtime.db.session() as session:
        return await active_incidents(session, ACTIVE_LIMIT)


async def _audit(
    connection: Connection, runtime: ServiceRuntime, action: str, target: str | None, outcome: int
) -> None:
    """A subscription is an access like any read: recorded in the audit trail (the HTTP
    middleware that records every other route never sees WebSocket messages)."""
    socket = connection.socket
    async with runtime.unit_of_work() as uow:
        audit.record(
            uow,
            service=runtime.settings.service_name,
            actor=connection.who.subject,
            actor_kind=connection.who.kind,
            roles=sorted(str(r) for r in connection.who.roles),
            source_ip=socket.client.host if socket.client else None,
            action=f"WS /v1/eido/subscriptions {action}",
            target_type="incident" if target else None,
            target_id=target,
            outcome=str(outcome),
        )
        await uow.commit()


async def _handle(connection: Connection, text: str, runtime: ServiceRuntime) -> bool:
    """One subscriber message; False when the connection must end."""
    if len(text) > MAX_MESSAGE:
        await connection.socket.close(code=1009)
        return False
    try:
        message = SubscriberMessage.model_validate(json.loads(text))
    except (ValueError, ValidationError):
        await connection.socket.close(code=1007, reason="not an STA-024 message")
        return False
    if message.subscribe is not None:
        request = message.subscribe
        if request.requestSubType == "single":
            async with runtime.db.session() as session:
                try:
                    document = await incident_eido(
                        session, request.incidentId or "", connection.who, connection.issuer
                    )
                except IncidentNotFound:
                    await _audit(connection, runtime, "subscribe", request.incidentId, 404)
                    await connection.socket.send_json(
                        subscribe_response(request.requestId, None, 0, 404, "no such incident")
                    )
                    return True
            subscription = Subscription(
                request.requestId,
                document.incident_component.internal_incident_id
                if document.incident_component
                else None,
            )
        else:
            subscription = Subscription(request.requestId, None)
        subscription_id = uuid.uuid4().hex
        connection.subscriptions[subscription_id] = subscription
        await _audit(connection, runtime, "subscribe", subscription.incident_id, 200)
        await connection.socket.send_json(
            subscribe_response(request.requestId, subscription_id, EXPIRES_S, 200, "OK")
        )
        first = [subscription.incident_id] if subscription.incident_id else await _active(runtime)
        await _send(connection, subscription_id, first, runtime, even_empty=True)
        log.info(
            "dispatch.eido_subscribed",
            extra={"subscription_id": subscription_id, "subject": connection.who.subject},
        )
    elif message.unsubscribe is not None:
        found = connection.subscriptions.pop(message.unsubscribe.subscriptionId, None)
        await connection.socket.send_json(
            unsubscribe_response(
                message.unsubscribe.subscriptionId,
                200 if found else 404,
                "Unsubscribed" if found else "no such subscription",
            )
        )
    elif message.eventResponse is not None:
        connection.unanswered.discard(message.eventResponse.transactionId)
        if message.eventResponse.statusCode != 200:
            log.warning(
                "dispatch.eido_event_refused",
                extra={
                    "transaction_id": message.eventResponse.transactionId,
                    "status_code": message.eventResponse.statusCode,
                },
            )
    return True


async def _still_valid(runtime: ServiceRuntime, claims: Claims) -> bool:
    if runtime.clock.now() >= claims.expires_at:
        return False
    async with runtime.db.session() as session:
        return not await is_revoked(session, claims)


@router.websocket("/v1/eido/subscriptions")
async def subscriptions(socket: WebSocket) -> None:
    runtime: ServiceRuntime = socket.app.state.runtime
    found = await _principal(socket, runtime)
    if found is None:
        # Before accept: the client sees its upgrade refused (HTTP 403).
        await socket.close(code=1008)
        return
    who, claims = found
    await socket.accept()
    connection = Connection(socket, who, claims, _issuer(socket.app))
    inbox: asyncio.Queue[str | None] = asyncio.Queue()

    async def read() -> None:
        try:
            while True:
                await inbox.put(await socket.receive_text())
        except (WebSocketDisconnect, RuntimeError):
            await inbox.put(None)

    reader = asyncio.create_task(read())
    async with runtime.db.session() as session:
        cursor = ChangeCursor(await latest_position(session))
    try:
        while True:
            try:
                text = await asyncio.wait_for(inbox.get(), timeout=POLL_S)
            except TimeoutError:
                text = ""
            if text is None:
                return
            if text and not await _handle(connection, text, runtime):
                return
            if not await _still_valid(runtime, claims):
                for subscription_id, subscription in connection.subscriptions.items():
                    await socket.send_json(
                        terminate_message(subscription.request_id, subscription_id, "token expired")
                    )
                await socket.close(code=1008)
                return
            async with runtime.db.session() as session:
                changes = await incident_changes(session, cursor)
            cursor = changes.cursor
            if not changes.incident_ids:
                continue
            for subscription_id, subscription in list(connection.subscriptions.items()):
                ids = [i for i in changes.incident_ids if subscription.incident_id in (None, i)]
                if ids:
                    await _send(connection, subscription_id, ids, runtime)
    except WebSocketDisconnect:
        return
    finally:
        reader.cancel()
        log.info("dispatch.eido_connection_closed", extra={"subject": who.subject})
