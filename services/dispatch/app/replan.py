"""Re-planning: recalculating every unfilled role of an incident, by hand or when a unit frees up.

A recommendation made when nobody was free goes stale the moment a unit comes back
(a P1 showed "nobody available" while E18 had become free). ``replan`` ranks each
unfilled role again (units that declined this incident's role are left out; far
ones are listed, never offered by themselves), writes the new entry on the
recommendation, and, when the incident's priority is one the policy offers
automatically and dispatch has already acted on it, offers the best near unit.

``unit_became_available``: a unit reporting ``available`` with no assignment is a
reason to re-plan the open incidents it could help (oldest, most urgent first),
so a role unfilled for want of a unit is offered without a dispatcher asking.
"""

from sqlalchemy import select

from schemas.policy import Policy
from schemas.vocabulary import AssignmentStatus, IncidentStatus, Role, UnitStatus
from services.common.outbox import UnitOfWork
from services.dispatch.adapters.models import AssignmentRecord, IncidentRecord, UnitRecord
from services.dispatch.app import timeline
from services.dispatch.app.dispatching import PolicyLookup, recommendation_entry
from services.dispatch.app.offers import offer_step, ranked_candidates, refresh_status
from services.dispatch.domain.errors import Conflict
from services.dispatch.domain.eta import EtaEstimator
from services.dispatch.domain.roles import needed_by_role, role_covers, unfilled

# How many open incidents one freed unit looks at: enough for a busy shift's
# backlog, bounded so a status report stays quick.
OPEN_INCIDENTS_PER_UNIT = 20


async def replan(
    uow: UnitOfWork,
    incident: IncidentRecord,
    policy: Policy,
    eta: EtaEstimator,
    actor: str,
) -> list[Role]:
    """Recalculate every unfilled role; offer where the policy offers by itself.
    Returns the roles that were re-planned."""
    if incident.status == IncidentStatus.CLOSED.value:
        raise Conflict(f"incident {incident.code} is closed")
    if incident.triage is None:
        raise Conflict(f"incident {incident.code} is not triaged yet")
    rows = (
        await uow.session.execute(
            select(AssignmentRecord.role, AssignmentRecord.status, AssignmentRecord.call_sign)
            .where(AssignmentRecord.incident_id == incident.id)
            .order_by(AssignmentRecord.offered_at, AssignmentRecord.id)
        )
    ).all()
    entries = [dict(e) for e in incident.recommendation or []]
    covers = role_covers([e["role"] for e in entries], rows, needed_by_role(entries))
    missing = {c.role: c.missing for c in covers if c.role in unfilled(covers)}
    declined = {
        (role, unit_id)
        for role, unit_id, status in (
            await uow.session.execute(
                select(
                    AssignmentRecord.role, AssignmentRecord.unit_id, AssignmentRecord.status
                ).where(AssignmentRecord.incident_id == incident.id)
            )
        ).all()
        # Who said no, or was called off by a dispatcher, is not asked again by a
        # re-plan (a dispatcher may still send them by hand).
        if status in (AssignmentStatus.DECLINED.value, AssignmentStatus.CANCELLED.value)
    }
    offers = incident.priority in policy.dispatch.auto_offer_priorities and incident.status in (
        IncidentStatus.DISPATCHED.value,
        IncidentStatus.UNASSIGNED.value,
    )
    replanned: list[Role] = []
    for index, entry in enumerate(entries):
        if entry["role"] not in missing:
            continue
        role = Role(entry["role"])
        exclude = {unit_id for r, unit_id in declined if r == role.value}
        ranked = await ranked_candidates(uow, incident, role, policy, eta, exclude)
        # Earlier "far" notes were about the units of then; the new entry says its own.
        kept = [n for n in entry.get("notes", []) if not n.startswith("far:")]
        entries[index] = recommendation_entry(role, ranked, kept, needed=entry.get("needed", 1))
        replanned.append(role)
        if offers and any(not r.far for r in ranked):
            await offer_step(
                uow,
                incident,
                role,
                policy,
                eta,
                loop=0,
                step=0,
                actor=actor,
                first=ranked,
                slots=missing[role.value],
            )
    if not replanned:
        return []
    changed = [
        e for e, before in zip(entries, incident.recommendation or [], strict=True) if e != before
    ]
    incident.recommendation = entries
    await refresh_status(uow, incident)
    if not changed and actor == "dispatch":
        return replanned  # nothing new: no line on the timeline for every unit that frees up
    now = uow.clock.now()
    incident.updated_at = now
    timeline.record(
        uow.session,
        incident.id,
        at=now,
        kind="recommendation.replanned",
        actor=actor,
        summary="re-planned "
        + ", ".join(
            f"{e['role']} {e['call_sign'] or '(no unit available)'}"
            for e in entries
            if Role(e["role"]) in replanned
        ),
    )
    return replanned


async def after_release(
    uow: UnitOfWork, assignment: AssignmentRecord, policy_for: PolicyLookup, eta: EtaEstimator
) -> None:
    """An assignment was cleared or cancelled and its unit is back in service: the
    incidents waiting for a unit like it are re-planned (the common way a unit frees
    up is finishing a call, not a status report)."""
    if assignment.status not in (AssignmentStatus.CLEARED.value, AssignmentStatus.CANCELLED.value):
        return
    unit = await uow.session.get(UnitRecord, assignment.unit_id)
    if unit is not None and unit.status == UnitStatus.AVAILABLE.value:
        await uow.session.flush()
        await unit_became_available(uow, unit, policy_for, eta)


async def unit_became_available(
    uow: UnitOfWork, unit: UnitRecord, policy_for: PolicyLookup, eta: EtaEstimator
) -> None:
    """Re-plan the open incidents with a role this unit can fill, most urgent first;
    stop once the unit is booked (one unit, one incident)."""
    if unit.current_assignment_id is not None:
        return
    roles = set(unit.roles)
    waiting = (
        await uow.session.scalars(
            select(IncidentRecord)
            .where(IncidentRecord.status == IncidentStatus.UNASSIGNED.value)
            .order_by(IncidentRecord.priority, IncidentRecord.received_at)
            .limit(OPEN_INCIDENTS_PER_UNIT)
        )
    ).all()
    for incident in waiting:
        wanted = {e["role"] for e in incident.recommendation or []}
        policy = policy_for(incident.jurisdiction)
        if not roles & wanted or incident.priority not in policy.dispatch.auto_offer_priorities:
            # A priority a dispatcher confirms: the dispatcher re-plans (nothing would be
            # offered here, and every freed unit would rewrite the recommendation).
            continue
        await replan(uow, incident, policy, eta, "dispatch")
        await uow.session.flush()
        await uow.session.refresh(unit)
        if unit.current_assignment_id is not None:
            return
