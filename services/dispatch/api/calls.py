"""``POST /v1/calls``: a call-taker submits a call; 202 once it is stored."""

import logging

from fastapi import APIRouter, Request, Response, status
from sqlalchemy.exc import IntegrityError

from schemas.api import CallAccepted, Problem
from schemas.calls import CallSubmission
from schemas.vocabulary import IncidentStatus
from services.common.clock import as_utc
from services.dispatch.api.deps import CallTaker, Context, Runtime
from services.dispatch.app.intake import submit_call
from services.dispatch.domain.errors import Unprocessable

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1", tags=["calls"])

# Two concurrent calls drawing the same short code: the partial unique index
# refuses the second, which simply draws again.
_CODE_RACE_RETRIES = 3


@router.post(
    "/calls",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=CallAccepted,
    responses={422: {"model": Problem, "description": "a field is missing or invalid"}},
)
async def submit(
    call: CallSubmission,
    request: Request,
    response: Response,
    who: CallTaker,
    runtime: Runtime,
    context: Context,
) -> CallAccepted:
    # Refused here, at the call-taker's screen: once stored, a call whose
    # jurisdiction has no policy could be triaged but never dispatched.
    if call.jurisdiction not in context.policies:
        known = ", ".join(sorted(p.jurisdiction for p in context.policies))
        raise Unprocessable(
            "jurisdiction", f"no policy for jurisdiction {call.jurisdiction!r}; known: {known}"
        )
    for attempt in range(_CODE_RACE_RETRIES):
        try:
            async with runtime.unit_of_work(correlation_id=request.state.request_id) as uow:
                incident = await submit_call(uow, call, who)
                await uow.commit()
            break
        except IntegrityError:
            if attempt == _CODE_RACE_RETRIES - 1:
                raise
    # The request's trace and correlation ids are bound by the HTTP middleware.
    log.info("dispatch.call_accepted", extra={"incident_id": incident.id})
    href = f"/v1/incidents/{incident.id}"
    response.headers["Location"] = href
    return CallAccepted(
        incident_id=incident.id,
        incident_code=incident.code,
        status=IncidentStatus.RECEIVED,
        received_at=as_utc(incident.received_at),
        href=href,
    )
