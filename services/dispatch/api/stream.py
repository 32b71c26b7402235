"""``GET /v1/stream``: live updates for the console as Server-Sent Events.

Authenticated like every route (a bearer token in the ``Authorization``
header: the console reads the stream with ``fetch``, so no token is ever put
in a URL). About once a second the database is asked what changed
(``services.dispatch.app.changes``), so every replica serves the same stream:

- ``event: incident`` — ``{"incident_ids": [...]}``, with ``id:`` the client's
  new position; a client reconnecting with ``Last-Event-ID`` (or ``?since=``)
  gets everything after it.
- ``event: units`` — ``{"unit_ids": [...]}`` when units changed status,
  location or assignment.
- ``event: ready`` — once, first: the position the stream starts from.
- a ``: heartbeat`` comment every 15 s, so proxies and the client can tell a
  quiet stream from a dead one.

The stream ends when the access token expires (the console reconnects with
the refreshed one), and when the token is revoked (signed out, user disabled,
key rotated): the revocation list is read again with every heartbeat, so a
voided token is served for 15 s at most. ``?follow=false`` sends what changed
since the cursor and ends, for scripts and for catching up without holding a
connection.
"""

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from schemas.api import Problem
from services.common.revocations import is_revoked
from services.common.runtime import ServiceRuntime
from services.common.tokens import Claims, TokenKeys
from services.dispatch.api.deps import IncidentReader, Runtime
from services.dispatch.app.changes import incident_changes, latest_position, units_changed_since
from services.dispatch.domain.change_feed import ChangeCursor, parse_event_id

router = APIRouter(prefix="/v1", tags=["stream"])

POLL_S = 1.0
HEARTBEAT_S = 15.0
RETRY_MS = 2000


def _event(kind: str, data: dict[str, Any], event_id: str | None = None) -> str:
    lines = [f"event: {kind}"]
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines.append("data: " + json.dumps(data, separators=(",", ":")))
    return "\n".join(lines) + "\n\n"


@router.get(
    "/stream",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
            "description": "Server-Sent Events: incident, units, ready; heartbeat comments",
        },
        401: {"model": Problem},
        403: {"model": Problem},
    },
)
async def stream(
    request: Request,
    _who: IncidentReader,
    runtime: Runtime,
    since: Annotated[
        str | None, Query(max_length=32, description="a position to resume after")
    ] = None,
    follow: bool = True,
    last_event_id: Annotated[str | None, Header(max_length=32)] = None,
) -> StreamingResponse:
    start = parse_event_id(last_event_id) if last_event_id else parse_event_id(since)
    return StreamingResponse(
        _events(request, runtime, start, follow, _claims(request, runtime)),
        media_type="text/event-stream",
        # Proxies must pass each event on at once, and nothing here may be kept.
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _claims(request: Request, runtime: ServiceRuntime) -> Claims | None:
    """The verified claims of this request's token (authentication already passed)."""
    keys: TokenKeys | None = request.app.state.token_keys
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if keys is None or scheme.lower() != "bearer":
        return None
    return keys.verify(token.strip(), runtime.clock.now())


async def _still_valid(runtime: ServiceRuntime, claims: Claims | None) -> bool:
    if claims is None:
        return False
    if runtime.clock.now() >= claims.expires_at:
        return False
    async with runtime.db.session() as session:
        return not await is_revoked(session, claims)


async def _events(
    request: Request,
    runtime: ServiceRuntime,
    start: int | None,
    follow: bool,
    claims: Claims | None,
) -> AsyncIterator[str]:
    async with runtime.db.session() as session:
        cursor = ChangeCursor(start if start is not None else await latest_position(session))
        units_at, _ = await units_changed_since(session, None)
    yield f"retry: {RETRY_MS}\n" + _event("ready", {"position": cursor.position}, cursor.event_id)
    quiet_s = unchecked_s = 0.0
    while True:
        async with runtime.db.session() as session:
            changes = await incident_changes(session, cursor)
            units_at, unit_ids = await units_changed_since(session, units_at)
        cursor = changes.cursor
        if changes.incident_ids:
            yield _event("incident", {"incident_ids": changes.incident_ids}, cursor.event_id)
            quiet_s = 0.0
        if unit_ids:
            yield _event("units", {"unit_ids": unit_ids})
            quiet_s = 0.0
        if not follow or await request.is_disconnected():
            return
        if claims is None or runtime.clock.now() >= claims.expires_at:
            yield _event("expired", {"detail": "the access token expired; reconnect"})
            return
        if unchecked_s >= HEARTBEAT_S:
            if not await _still_valid(runtime, claims):
                yield _event("expired", {"detail": "the access token is no longer valid"})
                return
            unchecked_s = 0.0
        if quiet_s >= HEARTBEAT_S:
            yield ": heartbeat\n\n"
            quiet_s = 0.0
        await asyncio.sleep(POLL_S)
        quiet_s += POLL_S
        unchecked_s += POLL_S
