"""``GET /v1/messages``: the messages notify holds, with their delivery state.

The console backend's sent box is what a demo (and the tests) read to see the
SMS that would have gone out.

A responder's link (``/r/<token>``, ``/t/<token>``) lets whoever holds it answer
an offer as that responder, so its token is shown only where the sent box
stands in for the phone: to an admin (the operator playing the responder in a
demo) on the console backend. Everyone else, and everyone on Twilio, sees it
redacted.
"""

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from sqlalchemy import select

from schemas.api import Instant
from services.common.auth import Principal, StaffRole, require_roles
from services.common.clock import as_utc
from services.common.logs import mask_phone
from services.common.runtime import ServiceRuntime
from services.notify.adapters.models import ConsoleSms, MessageRecord

router = APIRouter(prefix="/v1", tags=["messages"])

Reader = Annotated[Principal, Depends(require_roles(StaffRole.DISPATCHER, StaffRole.SUPERVISOR))]


LINK_TOKEN = re.compile(r"(/[rt]/)[A-Za-z0-9_-]+")
REDACTED = r"\1[redacted]"


def shows_link_tokens(who: Principal, request: Request) -> bool:
    """Only the console backend's operator plays the phone; nobody else needs the token."""
    console = getattr(request.app.state, "sms_backend", None) == "console"
    return console and StaffRole.ADMIN in who.roles


def _body(body: str, reveal: bool) -> str:
    return body if reveal else LINK_TOKEN.sub(REDACTED, body)


class MessageView(BaseModel):
    id: str
    incident_id: str
    assignment_id: str | None
    to_masked: str | None
    body: str
    status: str
    attempts: int
    provider_message_id: str | None
    error_code: str | None
    error_message: str | None
    created_at: Instant
    updated_at: Instant
    console_recorded_at: Instant | None = None


@router.get("/messages", response_model=list[MessageView])
async def list_messages(
    request: Request,
    who: Reader,
    incident_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[MessageView]:
    runtime: ServiceRuntime = request.app.state.runtime
    query = (
        select(MessageRecord, ConsoleSms.created_at)
        .outerjoin(ConsoleSms, ConsoleSms.message_id == MessageRecord.id)
        .order_by(MessageRecord.created_at.desc())
        .limit(limit)
    )
    if incident_id:
        query = query.where(MessageRecord.incident_id == incident_id)
    async with runtime.db.session() as session:
        rows = (await session.execute(query)).all()
    reveal = shows_link_tokens(who, request)
    return [
        MessageView(
            id=m.id,
            incident_id=m.incident_id,
            assignment_id=m.assignment_id,
            to_masked=mask_phone(m.to_phone),
            body=_body(m.body, reveal),
            status=m.status,
            attempts=m.attempts,
            provider_message_id=m.provider_message_id,
            error_code=m.error_code,
            error_message=m.error_message,
            created_at=as_utc(m.created_at),
            updated_at=as_utc(m.updated_at),
            console_recorded_at=as_utc(recorded) if recorded else None,
        )
        for m, recorded in rows
    ]
