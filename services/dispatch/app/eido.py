"""EIDO use cases: a CAD hands an incident over; a CAD or dispatcher reads one back as an EIDO.

A received EIDO becomes a call through the same ``submit_call`` a ``POST /v1/calls`` takes
(stored, announced with ``call.received``, triaged and dispatched like any other), with the
EIDO's ``$id`` kept in ``eido_references`` in the same transaction. The same ``$id`` again is
the same incident: an older or equal ``lastUpdateTimeStamp`` changes nothing; a newer one adds
the notes not seen before to the incident's timeline (``eido.updated``), which is also what
tells subscribers something changed. Location and incident type are not changed by an
update: triage has already weighed them and a dispatcher may have acted (a pin, a replan).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from schemas.eido import EidoDocument, dangling_references, duplicate_ids
from services.common.auth import Principal, StaffRole
from services.common.db import Session
from services.common.outbox import UnitOfWork
from services.dispatch.adapters.eido_references import (
    Collision,
    EidoReference,
    EidoReferences,
    commit,
)
from services.dispatch.app import timeline
from services.dispatch.app.intake import submit_call
from services.dispatch.app.views import incident_view, snapshot
from services.dispatch.domain.eido_mapping import (
    EidoRefused,
    Issuer,
    call_from_eido,
    eido_from_incident,
    new_notes,
)
from services.dispatch.domain.errors import IncidentNotFound

COLLISION_RETRIES = 3

# Roles that see the caller and the narrative on the console, so may in an EIDO too.
ENTITLED = frozenset({StaffRole.DISPATCHER, StaffRole.SUPERVISOR, StaffRole.ADMIN})


@dataclass(frozen=True)
class Received:
    incident_id: str
    created: bool
    updated: bool


def _utc(value: datetime) -> datetime:
    """EIDO times without an offset are read as UTC (NENA's own samples carry some)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


async def hand_over(
    unit_of_work: Callable[[], UnitOfWork],
    document: EidoDocument,
    by: Principal,
    jurisdiction: str = "default",
) -> Received:
    """``receive_eido`` in its own transaction, tried again when a concurrent post of the
    same new ``$id`` (or a short-code draw) collides: the retry finds the winner's incident.

    Every way an EIDO arrives comes here (``POST /v1/eido``, a partner CAD's notifications),
    so every one is checked alike; ``EidoRefused`` names the path of what is wrong.
    """
    check_references(document)
    for attempt in range(COLLISION_RETRIES):
        try:
            async with unit_of_work() as uow:
                received = await receive_eido(uow, document, by, jurisdiction)
                await commit(uow)
            return received
        except Collision:
            if attempt == COLLISION_RETRIES - 1:
                raise
    raise AssertionError("unreachable")  # the loop returns or raises


def check_references(document: EidoDocument) -> None:
    """Every ``$id`` once and every ``$ref`` to one of them, or ``EidoRefused`` at the path."""
    wire = document.wire()
    if twice := duplicate_ids(wire):
        path, twin = twice[0]
        raise EidoRefused(path, f"$id {twin!r} is already the $id of another component")
    if dangling := dangling_references(wire):
        path, target = dangling[0]
        raise EidoRefused(path, f"refers to {target!r}, which no component of this EIDO has as $id")


async def receive_eido(
    uow: UnitOfWork, document: EidoDocument, by: Principal, jurisdiction: str = "default"
) -> Received:
    """Store a CAD's EIDO as an incident, or apply it to the incident it already is."""
    references = EidoReferences(uow.session)
    known = await references.by_eido_id(document.id)
    stamp = _utc(document.last_update_time_stamp)
    if known is not None:
        if stamp <= _utc(known.last_update):
            return Received(known.incident_id, created=False, updated=False)
        notes = new_notes(document, set(known.note_ids))
        seen = {*known.note_ids, *(n.id for n in document.notes_component or [])}
        await references.updated(known.eido_id, stamp, sorted(seen))
        timeline.record(
            uow.session,
            known.incident_id,
            at=uow.clock.now(),
            kind="eido.updated",
            actor=by.subject,
            summary="CAD update" + (": " + " / ".join(notes) if notes else ""),
        )
        return Received(known.incident_id, created=False, updated=True)
    cad = call_from_eido(document, jurisdiction)  # refuses before anything is written
    incident = await submit_call(uow, cad.call, by)
    references.add(
        eido_id=document.id,
        incident_id=incident.id,
        client=by.subject,
        issuing_element=document.issuing_element_identification,
        apco_type=cad.apco_type,
        last_update=stamp,
        note_ids=cad.note_ids,
        received_at=uow.clock.now(),
    )
    return Received(incident.id, created=True, updated=False)


def may_read(who: Principal, reference: EidoReference | None) -> bool:
    """Desk roles read any incident; a CAD only the incidents it handed over itself."""
    if who.has_any(ENTITLED):
        return True
    return reference is not None and reference.client == who.subject


def own_incident_id(key: str, issuer: Issuer) -> str:
    """The incident id in an EIDO ``$id`` corespond issued itself (see ``eido_id_for``), or
    ``key`` as it is (an incident id)."""
    prefix, suffix = "urn:emergency:uid:incidentid:", f":{issuer.agency_id}"
    if key.startswith(prefix) and key.endswith(suffix):
        return key[len(prefix) : -len(suffix)]
    return key


def eido_id_for(incident_id: str, issuer: Issuer) -> str:
    """The ``$id`` of an incident no CAD handed over: NENA's incident URN form."""
    return f"urn:emergency:uid:incidentid:{incident_id}:{issuer.agency_id}"


async def incident_eido(session: Session, key: str, who: Principal, issuer: Issuer) -> EidoDocument:
    """The incident ``key`` (its id, or the EIDO ``$id`` a CAD knows it by) as an EIDO."""
    await snapshot(session)  # the reference and the incident from the same moment
    references = EidoReferences(session)
    reference = await references.by_eido_id(key)
    incident_id = reference.incident_id if reference else own_incident_id(key, issuer)
    if reference is None:
        reference = await references.by_incident(incident_id)
    if not may_read(who, reference):
        # Not "forbidden": whether an incident exists is itself not the CAD's to know.
        raise IncidentNotFound(key)
    view = await incident_view(session, incident_id)
    return eido_from_incident(
        view,
        eido_id=reference.eido_id if reference else eido_id_for(view.id, issuer),
        issuer=issuer,
        cad_type=reference.apco_type if reference else None,
        entitled=who.has_any(ENTITLED),
        disposition_code=await references.disposition_code(incident_id),
    )


async def readable_incidents(
    session: Session, incident_ids: list[str], who: Principal
) -> list[str]:
    """Of ``incident_ids``, those ``who`` may read as EIDOs."""
    if who.has_any(ENTITLED):
        return incident_ids
    mine = await EidoReferences(session).handed_over_by(who.subject, incident_ids)
    return [i for i in incident_ids if i in mine]


async def active_incidents(session: Session, limit: int) -> list[str]:
    return await EidoReferences(session).active_incidents(limit)
