"""Offering units to a triaged incident: pick, book without double-booking, announce.

Candidates are the nearest few available units per role (found by the
database, not by loading every unit). A unit is booked with a conditional
update (``status = 'available'`` and its current ``version``); if another
transaction took it first, the next candidate is tried. On SQLite the write
lock serialises bookings; on PostgreSQL the conditional update re-checks the
row after the competing commit.
"""

from dataclasses import dataclass

from sqlalchemy import update

from schemas.envelope import EventType
from schemas.events import AssignmentOffered
from schemas.vocabulary import AssignmentStatus, Role
from services.common.clock import new_id
from services.common.outbox import UnitOfWork
from services.dispatch.adapters.candidates import AVAILABLE, nearest_available
from services.dispatch.adapters.models import AssignmentRecord, IncidentRecord, UnitRecord
from services.dispatch.app import timeline
from services.dispatch.domain.eta import EtaEstimator
from services.dispatch.domain.recommend import explain, rank_for_role

ASSIGNED = "assigned"
# How many of the nearest units per role to consider: enough to survive a few
# lost booking races, few enough to stay cheap with thousands of units.
CANDIDATES_PER_ROLE = 25


@dataclass(frozen=True)
class OfferOutcome:
    offered: list[AssignmentRecord]
    unfilled: list[Role]


async def _book(uow: UnitOfWork, unit_id: str, version: int, incident_id: str) -> bool:
    result = await uow.session.execute(
        update(UnitRecord)
        .where(
            UnitRecord.id == unit_id,
            UnitRecord.status == AVAILABLE,
            UnitRecord.version == version,
        )
        .values(status=ASSIGNED, version=UnitRecord.version + 1, current_incident_id=incident_id)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


async def offer_units(
    uow: UnitOfWork, incident: IncidentRecord, roles: list[Role], priority: int, eta: EtaEstimator
) -> OfferOutcome:
    """Offer the best available unit for each role; report roles nobody could fill."""
    location = incident.location or {}
    lat, lon = location.get("lat"), location.get("lon")
    taken: set[str] = set()
    offered: list[AssignmentRecord] = []
    unfilled: list[Role] = []
    now = uow.clock.now()
    for role in roles:
        found = await nearest_available(uow.session, role, lat, lon, CANDIDATES_PER_ROLE)
        versions = {candidate.unit_id: version for candidate, version in found}
        pool = [candidate for candidate, _ in found if candidate.unit_id not in taken]
        ranked = rank_for_role(role, pool, lat, lon, eta)
        chosen = None
        for rank, (eta_s, candidate) in enumerate(ranked):
            if await _book(uow, candidate.unit_id, versions[candidate.unit_id], incident.id):
                chosen = (rank, eta_s, candidate)
                break
        if chosen is None:
            unfilled.append(role)
            timeline.record(
                uow.session,
                incident.id,
                at=now,
                kind="assignment.unfilled",
                actor="dispatch",
                summary=f"no available unit can fill {role.value}",
                data={"role": role.value},
            )
            continue
        rank, eta_s, candidate = chosen
        taken.add(candidate.unit_id)
        unit = await uow.session.get(UnitRecord, candidate.unit_id)
        assert unit is not None
        assignment = AssignmentRecord(
            id=new_id(),
            incident_id=incident.id,
            unit_id=unit.id,
            call_sign=unit.call_sign,
            role=role.value,
            status=AssignmentStatus.OFFERED.value,
            eta_seconds=eta_s,
            reasons=list(explain(role, eta_s, rank, len(ranked))),
            offered_at=now,
            updated_at=now,
        )
        uow.session.add(assignment)
        event = uow.emit(
            EventType.ASSIGNMENT_OFFERED,
            incident.id,
            AssignmentOffered(
                assignment_id=assignment.id,
                incident_id=incident.id,
                incident_code=incident.code,
                unit_id=unit.id,
                call_sign=unit.call_sign,
                role=role,
                priority=priority,
                contact_phone=unit.phone,
                address=location.get("address"),
                lat=lat,
                lon=lon,
                offered_at=now,
            ),
        )
        timeline.record(
            uow.session,
            incident.id,
            at=now,
            kind="assignment.offered",
            actor="dispatch",
            summary=f"{unit.call_sign} offered as {role.value}"
            + (f", ETA {eta_s // 60} min" if eta_s is not None else ""),
            event_id=event.id,
            data={"assignment_id": assignment.id, "unit_id": unit.id},
        )
        offered.append(assignment)
    return OfferOutcome(offered=offered, unfilled=unfilled)
