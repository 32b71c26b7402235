"""Moving an assignment along its lifecycle, by whoever reports it: the unit, a dispatcher, a timer.

Every step is checked against the lifecycle, written to the incident's
timeline with who and when, and has its consequences in the same
transaction: an accept withdraws the other offers for that role; a decline
or an expiry escalates; a final step frees the unit.
"""

from collections.abc import Callable

from sqlalchemy import select

from schemas.policy import Policy
from schemas.vocabulary import AssignmentStatus, UnitStatus
from services.common.outbox import UnitOfWork
from services.dispatch.adapters.models import (
    AssignmentRecord,
    IncidentRecord,
    UnitRecord,
)
from services.dispatch.app import timeline
from services.dispatch.app.alerts import clear_ended
from services.dispatch.app.offers import (
    after_no_answer,
    cancel_timers,
    end,
    finalize,
    refresh_status,
    withdraw_siblings,
)
from services.dispatch.domain.errors import AssignmentNotFound
from services.dispatch.domain.eta import EtaEstimator
from services.dispatch.domain.lifecycle import COMMITTED, FINAL, check, unit_status_after


async def transition(
    uow: UnitOfWork,
    assignment_id: str,
    wanted: AssignmentStatus,
    *,
    actor: str,
    policy_for: Callable[[str], Policy],
    eta: EtaEstimator,
    reason: str | None = None,
) -> AssignmentRecord:
    assignment = await uow.session.get(AssignmentRecord, assignment_id)
    if assignment is None:
        raise AssignmentNotFound(assignment_id)
    current = AssignmentStatus(assignment.status)
    # Named by call sign and role, as the dispatcher knows it (the id means nothing on screen).
    check(f"{assignment.call_sign}'s {assignment.role} assignment", current, wanted)
    now = uow.clock.now()
    assignment.status = wanted.value
    assignment.updated_at = now
    assignment.updated_by = actor
    incident = await uow.session.get(IncidentRecord, assignment.incident_id)
    assert incident is not None
    timeline.record(
        uow.session,
        incident.id,
        at=now,
        kind=f"assignment.{wanted.value}",
        actor=actor,
        summary=f"{assignment.call_sign} ({assignment.role}) {wanted.value.replace('_', ' ')}"
        + (f": {reason}" if reason else ""),
        data={"assignment_id": assignment.id, "unit_id": assignment.unit_id, "from": current.value},
    )
    unit = await uow.session.get(UnitRecord, assignment.unit_id)
    follows = unit_status_after(wanted)
    if unit is not None and follows is not None:
        unit.status = follows.value
        unit.updated_at = now
    if (
        unit is not None
        and wanted == AssignmentStatus.CANCELLED
        and current in COMMITTED
        and unit.status in (UnitStatus.EN_ROUTE.value, UnitStatus.ON_SCENE.value)
    ):
        # Called off on the way or on scene: the unit is back in service (as
        # ``cancel_live`` does), not left en route with nothing to go to and never
        # offered again.
        unit.status = UnitStatus.AVAILABLE.value
        unit.updated_at = now
    if wanted != AssignmentStatus.EXPIRED and current == AssignmentStatus.OFFERED:
        # Answered (or withdrawn) in time: its expiry timer has nothing left to do.
        await cancel_timers(uow, assignment.id)
    if wanted in FINAL:
        await finalize(uow, assignment)
    if wanted == AssignmentStatus.ACCEPTED:
        await withdraw_siblings(uow, assignment)
    elif wanted in (AssignmentStatus.DECLINED, AssignmentStatus.EXPIRED):
        await after_no_answer(uow, assignment, policy_for(incident.jurisdiction), eta)
    incident.updated_at = now
    # Dispatched only while every role is covered or asked; a cancel or an
    # exhausted escalation leaves a role with nobody, and the status says so.
    await refresh_status(uow, incident)
    await clear_ended(uow, incident)  # an accept may fill the role an alert is about
    return assignment


async def live_assignment_of(uow: UnitOfWork, unit: UnitRecord) -> AssignmentRecord | None:
    if unit.current_assignment_id is None:
        return None
    return await uow.session.get(AssignmentRecord, unit.current_assignment_id)


async def cancel_live(uow: UnitOfWork, incident: IncidentRecord, actor: str, why: str) -> int:
    """End every assignment of the incident that is not final; their units are freed.

    A unit on scene has done its work: it is cleared. Anything short of that
    (an offer, an accept, a unit on its way) is cancelled.
    """
    live = (
        await uow.session.scalars(
            select(AssignmentRecord).where(
                AssignmentRecord.incident_id == incident.id,
                AssignmentRecord.status.not_in([s.value for s in FINAL]),
            )
        )
    ).all()
    for assignment in live:
        status = AssignmentStatus(assignment.status)
        if status in COMMITTED:
            # The unit was working this incident; it is back in service, not stuck on scene.
            unit = await uow.session.get(UnitRecord, assignment.unit_id)
            if unit is not None and unit.status in (UnitStatus.EN_ROUTE, UnitStatus.ON_SCENE):
                unit.status = UnitStatus.AVAILABLE.value
        on_scene = status == AssignmentStatus.ON_SCENE
        ending = AssignmentStatus.CLEARED if on_scene else AssignmentStatus.CANCELLED
        await end(uow, assignment, ending, actor, why)
    return len(live)
