"""``GET /v1/messages``: the messages notify holds, with their delivery state.

The console backend's sent box is what a demo (and the tests) read to see the
SMS that would have gone out.
"""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from sqlalchemy import select

from services.common.auth import Principal, StaffRole, require_roles
from services.common.clock import as_utc
from services.common.logs import mask_phone
from services.common.runtime import ServiceRuntime
from services.notify.adapters.models import ConsoleSms, MessageRecord

router = APIRouter(prefix="/v1", tags=["messages"])

Reader = Annotated[Principal, Depends(require_roles(StaffRole.DISPATCHER, StaffRole.SUPERVISOR))]


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
    created_at: datetime
    updated_at: datetime
    console_recorded_at: datetime | None = None


@router.get("/messages", response_model=list[MessageView])
async def list_messages(
    request: Request,
    _who: Reader,
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
    return [
        MessageView(
            id=m.id,
            incident_id=m.incident_id,
            assignment_id=m.assignment_id,
            to_masked=mask_phone(m.to_phone),
            body=m.body,
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
