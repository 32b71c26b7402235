"""Managing units: create and edit them, and take their status reports and location pings.

A unit's own report of its status moves its assignment along (en route, on
scene, available = cleared) when the lifecycle allows it; going off duty or
out of service declines an unanswered offer (the offer escalates) and is
refused while the unit is committed, so a dispatcher cancels it explicitly.
Locations are kept per source (``device`` pings, ``manual`` entries) with
their times; the newest is the one used, and the view says which.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from schemas.policy import Policy
from schemas.vocabulary import AssignmentStatus, Capability, Role, UnitStatus
from services.common.clock import as_utc
from services.common.outbox import UnitOfWork
from services.dispatch.adapters.models import UnitRecord, UnitRoleRecord
from services.dispatch.adapters.roster import RosterUnit, new_unit_record
from services.dispatch.app.assignments import live_assignment_of, transition
from services.dispatch.app.replan import unit_became_available
from services.dispatch.domain.errors import Conflict, UnitNotFound
from services.dispatch.domain.eta import EtaEstimator
from services.dispatch.domain.lifecycle import COMMITTED, NEXT, UNANSWERED, step_for_unit_status

OFF = frozenset({UnitStatus.OFF_DUTY, UnitStatus.OUT_OF_SERVICE})


async def create_unit(uow: UnitOfWork, unit: RosterUnit) -> UnitRecord:
    record = new_unit_record(unit, uow.clock.now())
    uow.session.add(record)
    try:
        await uow.session.flush()
    except IntegrityError as exc:
        raise Conflict(f"call_sign: a unit called {unit.call_sign!r} already exists") from exc
    return record


async def get_unit(uow: UnitOfWork, unit_id: str) -> UnitRecord:
    unit = await uow.session.get(UnitRecord, unit_id)
    if unit is None:
        raise UnitNotFound(unit_id)
    return unit


async def update_unit(uow: UnitOfWork, unit_id: str, changes: dict[str, Any]) -> UnitRecord:
    """Edit a unit; another unit's call sign is a 409 naming it, not a failed commit."""
    unit = await get_unit(uow, unit_id)
    call_sign = changes.get("call_sign")
    apply_changes(unit, changes, uow.clock.now())
    try:
        # Flushed here, so the unique call sign is checked while the answer can still say so.
        await uow.session.flush()
    except IntegrityError as exc:
        raise Conflict(f"call_sign: a unit called {call_sign!r} already exists") from exc
    return unit


def apply_changes(unit: UnitRecord, changes: dict[str, Any], now: datetime) -> None:
    """Edit descriptive fields; status and location have their own reports."""
    if "agency" in changes:
        unit.agency = changes["agency"]
    if "call_sign" in changes:
        unit.call_sign = changes["call_sign"]
    if "roles" in changes:
        unit.role_rows = [
            UnitRoleRecord(role=Role(r).value) for r in dict.fromkeys(changes["roles"])
        ]
    if "capabilities" in changes:
        unit.capabilities = [Capability(c).value for c in changes["capabilities"]]
    if "languages" in changes:
        unit.languages = list(changes["languages"])
    if "phone" in changes:
        if changes["phone"] != unit.phone:
            unit.sms_opted_out = False  # a new number has not said STOP
        unit.phone = changes["phone"]
    if "jurisdiction" in changes:
        unit.jurisdiction = changes["jurisdiction"]
    if "service_area" in changes:
        unit.service_area = changes["service_area"]
    unit.version += 1
    unit.updated_at = now


async def report_status(
    uow: UnitOfWork,
    unit_id: str,
    status: UnitStatus,
    actor: str,
    policy_for: Callable[[str], Policy],
    eta: EtaEstimator,
) -> UnitRecord:
    unit = await get_unit(uow, unit_id)
    assignment = await live_assignment_of(uow, unit)
    if assignment is not None:
        current = AssignmentStatus(assignment.status)
        if status in OFF and current in COMMITTED:
            raise Conflict(
                f"unit {unit.call_sign} is {current.value} on an incident; "
                "a dispatcher must cancel that assignment before it goes off duty"
            )
        if status in OFF and current in UNANSWERED:
            await transition(
                uow,
                assignment.id,
                AssignmentStatus.DECLINED,
                actor=actor,
                policy_for=policy_for,
                eta=eta,
                reason=f"unit went {status.value.replace('_', ' ')}",
            )
        step = step_for_unit_status(status)
        if step is not None and current in COMMITTED and step in NEXT[current]:
            await transition(
                uow,
                assignment.id,
                step,
                actor=actor,
                policy_for=policy_for,
                eta=eta,
                reason="reported by the unit",
            )
    was = unit.status
    unit.status = status.value
    unit.version += 1
    unit.updated_at = uow.clock.now()
    if status == UnitStatus.AVAILABLE and was != UnitStatus.AVAILABLE.value:
        # Back in service: an incident waiting for a unit like this one is re-planned.
        await uow.session.flush()
        await unit_became_available(uow, unit, policy_for, eta)
    return unit


def report_location(unit: UnitRecord, lat: float, lon: float, source: str, at: datetime) -> None:
    """Keep this source's point; use it if it is the newest of all sources."""
    places = dict(unit.locations or {})
    places[source] = {"lat": lat, "lon": lon, "at": as_utc(at).astimezone(UTC).isoformat()}
    unit.locations = places
    newest_source, newest = max(places.items(), key=lambda item: item[1]["at"])
    unit.lat, unit.lon = newest["lat"], newest["lon"]
    unit.location_at = datetime.fromisoformat(newest["at"])
    unit.location_source = newest_source
    unit.version += 1
    unit.updated_at = at
