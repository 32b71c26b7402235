"""A call arrives: store the incident and its call.received event in one transaction.

``202`` is answered only after this commit, so an accepted call survives a
crash, a broker outage or a stopped triage service.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import select

from schemas.calls import CallSubmission
from schemas.envelope import EventType
from schemas.events import CallReceived
from schemas.vocabulary import IncidentStatus
from services.common.auth import Principal
from services.common.clock import new_id
from services.common.outbox import UnitOfWork
from services.dispatch.adapters.models import IncidentRecord
from services.dispatch.app import timeline
from services.dispatch.domain.codes import incident_code
from services.dispatch.domain.geocoding import SOURCE_INTAKE, Geocode

MAX_CODE_ATTEMPTS = 60


async def _free_code(uow: UnitOfWork) -> str:
    for attempt in range(MAX_CODE_ATTEMPTS):
        code = incident_code(attempt)
        taken = await uow.session.scalar(
            select(IncidentRecord.id).where(
                IncidentRecord.code == code, IncidentRecord.status != IncidentStatus.CLOSED.value
            )
        )
        if taken is None:
            return code
    raise RuntimeError("no free incident code")  # unreachable in practice: 6 digits


async def submit_call(
    uow: UnitOfWork, call: CallSubmission, by: Principal, geocode: Geocode | None = None
) -> IncidentRecord:
    """Store a new incident and announce it. Caller commits nothing else in this UoW.

    ``geocode``: where the call's address was placed, for a call that gave no point."""
    now = uow.clock.now()
    incident = IncidentRecord(
        id=new_id(),
        code=await _free_code(uow),
        status=IncidentStatus.RECEIVED.value,
        received_at=now,
        updated_at=now,
        source=call.source.value,
        jurisdiction=call.jurisdiction,
        narrative=call.narrative,
        answers=call.answers.model_dump(mode="json"),
        location=call.location.model_dump(mode="json"),
        caller=call.caller.model_dump(mode="json") if call.caller else None,
        created_by=by.subject,
        language=call.language,
        locations=_locations(call, now, geocode),
    )
    uow.session.add(incident)
    event = uow.emit(
        EventType.CALL_RECEIVED,
        incident.id,
        CallReceived(
            incident_id=incident.id,
            incident_code=incident.code,
            received_at=now,
            narrative=call.narrative,
            answers=call.answers,
            location=call.location,
            source=call.source,
            jurisdiction=call.jurisdiction,
        ),
    )
    timeline.record(
        uow.session,
        incident.id,
        at=now,
        kind="call.received",
        actor=by.subject,
        summary=f"call received from {call.source.value}, incident {incident.code}",
        event_id=event.id,
    )
    if call.location.address and not call.location.has_point():
        # No address or coordinates in the summary: the place stays in ``locations``.
        timeline.record(
            uow.session,
            incident.id,
            at=now,
            kind="location.geocoded",
            actor="dispatch",
            summary=(
                f"address placed from {geocode.source.replace('_', ' ')} ({geocode.method}, "
                f"confidence {geocode.confidence:.2f})"
                if geocode is not None
                else "address not found by the geocoder: no point, ETAs unknown until a "
                "dispatcher pins the place"
            ),
        )
    return incident


def _locations(call: CallSubmission, now: datetime, geocode: Geocode | None) -> dict[str, Any]:
    """The caller's address and the point it was geocoded to, each kept with its time.
    A point given with the call is taken as given (``source: intake``)."""
    places: dict[str, Any] = {}
    if call.location.address:
        places["reported"] = {"address": call.location.address, "at": now.isoformat()}
    if call.location.lat is not None and call.location.lon is not None:
        places["geocoded"] = {
            "lat": call.location.lat,
            "lon": call.location.lon,
            "at": now.isoformat(),
            "source": SOURCE_INTAKE,
            "confidence": 1.0,
        }
    elif geocode is not None:
        places["geocoded"] = {**geocode.as_place(), "at": now.isoformat()}
    return places
