"""``POST /v1/calls``: a call-taker submits a call; 202 once it is stored."""

import json
import logging

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse

from schemas.api import CallAccepted, Problem
from schemas.calls import CallSubmission
from schemas.vocabulary import IncidentStatus
from services.common.clock import as_utc
from services.common.outbox import UnitOfWork
from services.dispatch.api.deps import CallGeocoder, CallTaker, Context, Runtime
from services.dispatch.api.idempotent import IdempotencyKey, answer_once
from services.dispatch.app.intake import submit_call
from services.dispatch.domain.errors import Unprocessable

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1", tags=["calls"])


@router.post(
    "/calls",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=CallAccepted,
    responses={422: {"model": Problem, "description": "a field is missing or invalid"}},
)
async def submit(
    call: CallSubmission,
    request: Request,
    who: CallTaker,
    runtime: Runtime,
    context: Context,
    geocoder: CallGeocoder,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    # Refused here, at the call-taker's screen: once stored, a call whose
    # jurisdiction has no policy could be triaged but never dispatched.
    if call.jurisdiction not in context.policies:
        known = ", ".join(sorted(p.jurisdiction for p in context.policies))
        raise Unprocessable(
            "jurisdiction", f"no policy for jurisdiction {call.jurisdiction!r}; known: {known}"
        )

    # An address with no point: placed now, before the transaction (an online
    # geocoder, if configured, must not hold the database while it answers).
    geocode = None
    if call.location.address and not call.location.has_point():
        geocode = await geocoder.geocode(call.location.address)

    async def store(uow: UnitOfWork) -> CallAccepted:
        incident = await submit_call(uow, call, who, geocode)
        return CallAccepted(
            incident_id=incident.id,
            incident_code=incident.code,
            status=IncidentStatus.RECEIVED,
            received_at=as_utc(incident.received_at),
            href=f"/v1/incidents/{incident.id}",
        )

    # A short-code collision between two concurrent calls fails the insert;
    # answer_once tries again and the call draws another code.
    response = await answer_once(
        runtime,
        request,
        who,
        idempotency_key,
        call,
        store,
        status_code=status.HTTP_202_ACCEPTED,
        location=lambda accepted: accepted.href,
    )
    # The request's trace and correlation ids are bound by the HTTP middleware.
    log.info(
        "dispatch.call_accepted",
        extra={
            "incident_id": json.loads(bytes(response.body))["incident_id"],
            "replayed": "Idempotent-Replayed" in response.headers,
        },
    )
    return response
