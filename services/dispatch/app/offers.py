"""Offering units to an incident and escalating until someone accepts, as the policy says.

For each role an incident needs, the policy's escalation steps run over the
ranked candidates: step *n* offers ``offer_at_once`` units at once and waits
``ack_seconds`` (a stored timer, so a restart loses nothing). A decline or an
expiry moves on once every offer of that step has failed; the first accept
withdraws the others. After the last step the steps run again ``repeat`` more
times (units that did not answer may be asked again, never ones that declined);
when nobody is left, the policy's ``alert`` audience is alerted.

Booking is a conditional update on the unit (free of any assignment, at the
version read); the database's partial unique index on live assignments per
unit is the last word, so no unit is ever double-booked, with any number of
dispatch replicas. Candidates are chosen from the process's in-memory unit
index (``unit_index_sync``), which may lag behind another replica: that is
safe only because of this booking, which refuses a unit the index wrongly
thought free.
"""

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from sqlalchemy import select, update

from schemas.envelope import EventType
from schemas.events import AssignmentEnded, AssignmentOffered
from schemas.policy import Escalation, Policy
from schemas.vocabulary import AlertKind, AssignmentStatus, IncidentStatus, Role, UnitStatus
from services.common.clock import new_id
from services.common.outbox import UnitOfWork
from services.dispatch.adapters.candidates import free_units, nearest_available
from services.dispatch.adapters.models import (
    AssignmentRecord,
    IncidentRecord,
    TimerRecord,
    UnitRecord,
)
from services.dispatch.adapters.unit_index import Accept, IndexedUnit
from services.dispatch.adapters.unit_index_sync import LiveUnitIndex, unit_ids_option
from services.dispatch.app import timeline
from services.dispatch.app.alerts import raise_alert
from services.dispatch.domain.areas import ServiceArea
from services.dispatch.domain.errors import Conflict
from services.dispatch.domain.eta import EtaEstimator
from services.dispatch.domain.lifecycle import UNANSWERED
from services.dispatch.domain.places import used_point
from services.dispatch.domain.recommend import (
    ON_SCENE,
    Ranked,
    Requirement,
    UnitCandidate,
    far_note,
    rank_for_role,
)
from services.dispatch.domain.roles import COVERING, needed_by_role, role_covers, unfilled

# How many of the nearest units per role to consider: enough to survive a few
# lost booking races, few enough to stay cheap with thousands of units.
CANDIDATES_PER_ROLE = 25
OFFER_EXPIRY = "offer_expiry"


@dataclass(frozen=True)
class Chosen:
    """A dispatcher's pick for a role (confirming or overriding the recommendation)."""

    role: Role
    unit_id: str


async def ranked_candidates(
    uow: UnitOfWork,
    incident: IncidentRecord,
    role: Role,
    policy: Policy,
    eta: EtaEstimator,
    exclude: set[str],
    planned: set[Role] | None = None,
) -> list[Ranked]:
    """Free units for ``role``, best first. ``planned`` is the incident's roles as dispatch
    plans them (default: its stored recommendation); telehealth among them means the
    on-scene unit needs a tablet."""
    if planned is None:
        planned = {Role(e["role"]) for e in incident.recommendation or []}
    lat, lon = _incident_point(incident)
    window_days = policy.dispatch.wellbeing.window_days
    found = await _from_index(uow, incident, role, lat, lon, window_days)
    if found is None:
        found = await nearest_available(
            uow.session, role, lat, lon, CANDIDATES_PER_ROLE, uow.clock, window_days=window_days
        )
    pool = [c for c in found if c.unit_id not in exclude]
    need = Requirement.for_incident(
        incident.triage,
        language=incident.language,
        telehealth=Role.TELEHEALTH in planned,
        jurisdiction=incident.jurisdiction,
    )
    limit = policy.dispatch.max_eta_minutes.seconds_for(role.value)
    return rank_for_role(role, pool, lat, lon, eta, need, limit)


async def _from_index(
    uow: UnitOfWork,
    incident: IncidentRecord,
    role: Role,
    lat: float | None,
    lon: float | None,
    window_days: int,
) -> list[UnitCandidate] | None:
    """Candidates from the in-memory index (None: no index, or it cannot answer for
    this transaction). With service areas, the nearest home units and the nearest
    others are searched apart, so a crowd of mutual-aid units near a boundary
    cannot hide a home unit within the maximum ETA."""
    live = LiveUnitIndex.of(uow.session)
    if live is None:
        return None
    accept: list[Accept] | None = None
    if live.index.has_areas:
        home_by_area: dict[ServiceArea, bool] = {}

        def home(unit: IndexedUnit) -> bool:
            if unit.area is None:
                return True
            if unit.area not in home_by_area:
                home_by_area[unit.area] = unit.area.serves(incident.jurisdiction, lat, lon)
            return home_by_area[unit.area]

        accept = [home, lambda unit: not home(unit)]
    found = await live.nearest(uow.session, role, lat, lon, CANDIDATES_PER_ROLE, accept)
    if found is None:
        return None
    since = uow.clock.now() - timedelta(days=window_days)
    return [unit.candidate(role, since) for unit in found]


async def chosen_candidates(
    uow: UnitOfWork,
    incident: IncidentRecord,
    role: Role,
    policy: Policy,
    eta: EtaEstimator,
    unit_ids: list[str],
) -> list[Ranked]:
    """A dispatcher's picks, ranked with their ETA and reasons, in the order chosen.

    Looked up by id, with nothing excluded: a dispatcher may send any free unit
    able to fill the role, one that was offered before (and expired, declined or
    replied late) or one beyond the policy's maximum ETA included."""
    lat, lon = _incident_point(incident)
    planned = {Role(e["role"]) for e in incident.recommendation or []}
    found = await free_units(
        uow.session,
        role,
        unit_ids,
        uow.clock,
        window_days=policy.dispatch.wellbeing.window_days,
    )
    need = Requirement.for_incident(
        incident.triage,
        language=incident.language,
        telehealth=Role.TELEHEALTH in planned,
        jurisdiction=incident.jurisdiction,
    )
    limit = policy.dispatch.max_eta_minutes.seconds_for(role.value)
    by_id = {r.candidate.unit_id: r for r in rank_for_role(role, found, lat, lon, eta, need, limit)}
    missing = [u for u in unit_ids if u not in by_id]
    if missing:
        raise await unavailable(uow, missing[0], role)
    return [by_id[u] for u in unit_ids]


def _incident_point(incident: IncidentRecord) -> tuple[float | None, float | None]:
    _source, lat, lon = used_point(incident.locations or {})
    return lat, lon


async def _book(
    uow: UnitOfWork, unit_id: str, version: int, assignment_id: str, incident_id: str
) -> bool:
    result = await uow.session.execute(
        update(UnitRecord)
        .where(
            UnitRecord.id == unit_id,
            UnitRecord.status == UnitStatus.AVAILABLE.value,
            UnitRecord.current_assignment_id.is_(None),
            UnitRecord.version == version,
        )
        .values(
            version=UnitRecord.version + 1,
            current_assignment_id=assignment_id,
            current_incident_id=incident_id,
        )
        .execution_options(synchronize_session=False, **unit_ids_option(unit_id))
    )
    return bool(getattr(result, "rowcount", 0) == 1)


async def finalize(uow: UnitOfWork, assignment: AssignmentRecord) -> None:
    """The assignment is final: its unit may be offered again, and notify hears of it
    (an offer that ended is no longer answerable; a withdrawn one is worth a text)."""
    await uow.session.execute(
        update(UnitRecord)
        .where(
            UnitRecord.id == assignment.unit_id,
            UnitRecord.current_assignment_id == assignment.id,
        )
        .values(
            version=UnitRecord.version + 1, current_assignment_id=None, current_incident_id=None
        )
        .execution_options(synchronize_session=False, **unit_ids_option(assignment.unit_id))
    )
    uow.emit(
        EventType.ASSIGNMENT_ENDED,
        assignment.incident_id,
        AssignmentEnded(
            assignment_id=assignment.id,
            incident_id=assignment.incident_id,
            status=AssignmentStatus(assignment.status),
            ended_at=uow.clock.now(),
        ),
    )


async def _tried(
    uow: UnitOfWork, incident_id: str, role: Role, loop: int, just_expired: set[str] | None = None
) -> set[str]:
    """Units not to offer again for this role: declined ever, anyone earlier in this loop,
    and ``just_expired`` (the next offer after an expiry is never the same unit, even
    when a new loop starts: it would be the same unanswered phone again)."""
    rows = (
        await uow.session.execute(
            select(AssignmentRecord.unit_id, AssignmentRecord.status, AssignmentRecord.loop).where(
                AssignmentRecord.incident_id == incident_id, AssignmentRecord.role == role.value
            )
        )
    ).all()
    return {
        unit_id
        for unit_id, status, offered_loop in rows
        if status != AssignmentStatus.EXPIRED.value or offered_loop == loop
    } | (just_expired or set())


async def offer_step(
    uow: UnitOfWork,
    incident: IncidentRecord,
    role: Role,
    policy: Policy,
    eta: EtaEstimator,
    *,
    loop: int,
    step: int,
    actor: str = "dispatch",
    chosen: list[str] | None = None,
    override_reason: str | None = None,
    first: list[Ranked] | None = None,
    not_again: set[str] | None = None,
    slots: int = 1,
) -> list[AssignmentRecord]:
    """Run one escalation step for one role; when nobody can be offered, move on or alert.

    ``first``: candidates the caller has just ranked for a fresh incident (nobody
    tried yet), used for the first step instead of searching again. ``chosen``: a
    dispatcher's picks, offered as made (any free unit, far or tried before).
    ``not_again``: units that must not be offered in this round (one that just expired).
    ``slots``: units the role still needs (more than one where the policy asks for
    cover): the step offers one more unit per extra slot than its ``offer_at_once``.
    """
    if chosen:
        ranked = await chosen_candidates(uow, incident, role, policy, eta, chosen)
        rule = policy.dispatch.escalation[_priority(incident)].steps[step]
        offered = await _offer_batch(
            uow,
            incident,
            role,
            ranked,
            len(ranked),
            rule.ack_seconds,
            loop,
            step,
            actor,
            override_reason,
        )
        booked = {a.unit_id for a in offered}
        lost = [u for u in chosen if u not in booked]
        if lost:
            # Another incident or replica booked it between the read and the
            # write: refuse the whole order (the transaction rolls back).
            raise await unavailable(uow, lost[0], role)
        return offered
    escalation = policy.dispatch.escalation[_priority(incident)]
    far: str | None = None
    while True:
        rule = escalation.steps[step]
        if first is not None:
            ranked, first = first, None
        else:
            exclude = await _tried(uow, incident.id, role, loop, not_again)
            ranked = await ranked_candidates(uow, incident, role, policy, eta, exclude)
        # A unit beyond the policy's maximum ETA is never offered automatically.
        far = far_note(ranked) or far
        near = [r for r in ranked if not r.far]
        offered = await _offer_batch(
            uow,
            incident,
            role,
            near,
            rule.offer_at_once + slots - 1,
            rule.ack_seconds,
            loop,
            step,
            actor,
            override_reason,
        )
        if offered:
            return offered
        following = _next(escalation, loop, step)
        if following is None:
            await alert_unfilled(uow, incident, role, policy, far)
            return []
        loop, step = following


class UnitUnavailable(Conflict):
    """A dispatcher chose a unit that cannot be offered (busy, off duty, wrong role)."""

    def __init__(self, unit: str, role: Role, why: str = "") -> None:
        super().__init__(
            f"{unit} cannot be offered as {role.value}: "
            + (why or "it is not available, already committed, or cannot fill that role")
        )


async def unavailable(uow: UnitOfWork, unit_id: str, role: Role) -> UnitUnavailable:
    """The conflict for a unit a dispatcher cannot send, naming it by call sign and saying why."""
    unit = await uow.session.get(UnitRecord, unit_id)
    if unit is None:
        return UnitUnavailable(f"unit {unit_id}", role, "no such unit")
    if role.value not in unit.roles:
        why = f"it cannot fill {role.value} (it fills {', '.join(unit.roles) or 'nothing'})"
    elif unit.current_assignment_id is not None:
        assignment = await uow.session.get(AssignmentRecord, unit.current_assignment_id)
        incident = (
            await uow.session.get(IncidentRecord, unit.current_incident_id)
            if unit.current_incident_id
            else None
        )
        why = (
            "it is committed"
            + (f" to incident {incident.code}" if incident is not None else "")
            + (f" ({assignment.status})" if assignment is not None else "")
        )
    elif unit.status != UnitStatus.AVAILABLE.value:
        why = f"it is {unit.status.replace('_', ' ')}"
    else:
        why = "another dispatcher or replica booked it first"
    return UnitUnavailable(unit.call_sign, role, why)


def _priority(incident: IncidentRecord) -> Literal[1, 2, 3]:
    if incident.priority == 1:
        return 1
    if incident.priority == 3:
        return 3
    return 2  # untriaged or unexpected: treat as urgent


def _next(escalation: Escalation, loop: int, step: int) -> tuple[int, int] | None:
    if step + 1 < len(escalation.steps):
        return loop, step + 1
    if loop < escalation.repeat:
        return loop + 1, 0
    return None


async def _offer_batch(
    uow: UnitOfWork,
    incident: IncidentRecord,
    role: Role,
    ranked: list[Ranked],
    how_many: int,
    ack_seconds: int,
    loop: int,
    step: int,
    actor: str,
    override_reason: str | None,
) -> list[AssignmentRecord]:
    now = uow.clock.now()
    expires = now + timedelta(seconds=ack_seconds)
    # The unit on scene holds the tablet for the video clinician: it joins the same room.
    planned = {e["role"] for e in incident.recommendation or []}
    video_session = role in ON_SCENE and Role.TELEHEALTH.value in planned
    offered: list[AssignmentRecord] = []
    for rank, choice in enumerate(ranked):
        if len(offered) >= how_many:
            break
        candidate = choice.candidate
        assignment_id = new_id()
        if not await _book(uow, candidate.unit_id, candidate.version, assignment_id, incident.id):
            continue  # another incident or replica took it first: next candidate
        unit = await uow.session.get(UnitRecord, candidate.unit_id)
        assert unit is not None
        assignment = AssignmentRecord(
            id=assignment_id,
            incident_id=incident.id,
            unit_id=unit.id,
            call_sign=unit.call_sign,
            role=role.value,
            status=AssignmentStatus.OFFERED.value,
            eta_seconds=choice.eta_seconds,
            reasons=[*choice.reasons, f"choice {rank + 1} of {len(ranked)}"],
            offered_at=now,
            updated_at=now,
            updated_by=actor,
            loop=loop,
            step=step,
            expires_at=expires,
            override_reason=override_reason,
            mutual_aid=choice.mutual_aid,
        )
        uow.session.add(assignment)
        uow.session.add(
            TimerRecord(
                id=new_id(),
                kind=OFFER_EXPIRY,
                incident_id=incident.id,
                assignment_id=assignment.id,
                due_at=expires,
            )
        )
        lat, lon = _incident_point(incident)
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
                priority=_priority(incident),
                contact_phone=unit.phone,
                address=(incident.location or {}).get("address"),
                lat=lat,
                lon=lon,
                offered_at=now,
                expires_at=expires,
                video_session=video_session,
            ),
        )
        assignment.offer_event_id = event.id
        timeline.record(
            uow.session,
            incident.id,
            at=now,
            kind="assignment.offered",
            actor=actor,
            summary=f"{unit.call_sign} offered as {role.value}"
            + (f", ETA {_minutes(choice.eta_seconds)}" if choice.eta_seconds is not None else "")
            + (" (mutual aid)" if choice.mutual_aid else "")
            + f", answer within {ack_seconds} s"
            + (f" (override: {override_reason})" if override_reason else ""),
            event_id=event.id,
            data={"assignment_id": assignment.id, "unit_id": unit.id, "loop": loop, "step": step},
        )
        offered.append(assignment)
    return offered


async def alert_unfilled(
    uow: UnitOfWork,
    incident: IncidentRecord,
    role: Role,
    policy: Policy,
    why: str | None = None,
) -> None:
    raise_alert(
        uow,
        AlertKind.ROLE_UNFILLED,
        incident,
        policy.dispatch.escalation[_priority(incident)].alert,
        f"nobody accepted {role.value} for incident {incident.code}: "
        + (why or "candidates exhausted"),
        supervisor_phones=policy.dispatch.supervisor_phones,
        data={"role": role.value},
    )
    incident.status = IncidentStatus.UNASSIGNED.value
    incident.updated_at = uow.clock.now()


async def refresh_status(uow: UnitOfWork, incident: IncidentRecord) -> None:
    """Once dispatch has acted, the incident's status says whether a role is missing:
    ``unassigned`` while any planned role has nobody asked or coming, ``dispatched``
    once every role is covered or asked. (Before, an accept for one role turned an
    incident ``dispatched`` while another role had nobody.)"""
    if incident.status not in (
        IncidentStatus.DISPATCHED.value,
        IncidentStatus.UNASSIGNED.value,
    ):
        return  # received, awaiting a dispatcher, or closed: nothing to say yet
    await uow.session.flush()
    rows = (
        await uow.session.execute(
            select(AssignmentRecord.role, AssignmentRecord.status, AssignmentRecord.call_sign)
            .where(AssignmentRecord.incident_id == incident.id)
            .order_by(AssignmentRecord.offered_at, AssignmentRecord.id)
        )
    ).all()
    entries = incident.recommendation or []
    covers = role_covers([e["role"] for e in entries], rows, needed_by_role(entries))
    missing = unfilled(covers)
    wanted = IncidentStatus.UNASSIGNED if missing else IncidentStatus.DISPATCHED
    if incident.status != wanted.value:
        incident.status = wanted.value
        incident.updated_at = uow.clock.now()


async def after_no_answer(
    uow: UnitOfWork, assignment: AssignmentRecord, policy: Policy, eta: EtaEstimator
) -> None:
    """An offer was declined or expired: escalate once its whole step has failed."""
    incident = await uow.session.get(IncidentRecord, assignment.incident_id)
    assert incident is not None
    if incident.status == IncidentStatus.CLOSED.value:
        return
    siblings = (
        await uow.session.scalars(
            select(AssignmentRecord).where(
                AssignmentRecord.incident_id == incident.id,
                AssignmentRecord.role == assignment.role,
                AssignmentRecord.id != assignment.id,
            )
        )
    ).all()
    # Someone else may still accept, or already has; with cover, escalate only for
    # the units still missing.
    live = [s for s in siblings if AssignmentStatus(s.status) in UNANSWERED | COVERING]
    needed = needed_by_role(incident.recommendation or []).get(assignment.role, 1)
    if len(live) >= needed:
        return
    escalation = policy.dispatch.escalation[_priority(incident)]
    following = _next(escalation, assignment.loop, assignment.step)
    role = Role(assignment.role)
    if following is None:
        await alert_unfilled(uow, incident, role, policy)
        return
    expired = assignment.status == AssignmentStatus.EXPIRED.value
    offered = await offer_step(
        uow,
        incident,
        role,
        policy,
        eta,
        loop=following[0],
        step=following[1],
        # Never the same unit straight after it failed to answer, even when the
        # escalation starts a new loop: its phone did not answer a moment ago.
        not_again={assignment.unit_id},
        slots=needed - len(live),
    )
    first_expiry = expired and not any(s.status == AssignmentStatus.EXPIRED.value for s in siblings)
    if first_expiry and _priority(incident) == 1 and offered:
        # A life threat: the dispatcher hears of the first silence at once, not
        # when the whole escalation has run out (minutes later).
        raise_alert(
            uow,
            AlertKind.OFFER_UNANSWERED,
            incident,
            ["dispatcher"],
            f"{assignment.call_sign} did not answer the P1 {role.value} offer for incident "
            f"{incident.code}; now offered to " + ", ".join(a.call_sign for a in offered),
            unit_id=assignment.unit_id,
            data={"role": role.value, "assignment_id": assignment.id},
        )


async def withdraw_siblings(uow: UnitOfWork, accepted: AssignmentRecord) -> None:
    """The first accept wins: the other open offers for that role are cancelled (with
    cover, once as many units as the role needs have accepted)."""
    incident = await uow.session.get(IncidentRecord, accepted.incident_id)
    needed = needed_by_role(incident.recommendation or [] if incident else []).get(accepted.role, 1)
    if needed > 1:
        statuses = (
            await uow.session.scalars(
                select(AssignmentRecord.status).where(
                    AssignmentRecord.incident_id == accepted.incident_id,
                    AssignmentRecord.role == accepted.role,
                )
            )
        ).all()
        if sum(AssignmentStatus(s) in COVERING for s in statuses) < needed:
            return  # the role still needs more units: the other offers stand
    others = (
        await uow.session.scalars(
            select(AssignmentRecord).where(
                AssignmentRecord.incident_id == accepted.incident_id,
                AssignmentRecord.role == accepted.role,
                AssignmentRecord.status == AssignmentStatus.OFFERED.value,
                AssignmentRecord.id != accepted.id,
            )
        )
    ).all()
    for other in others:
        await cancel(uow, other, "dispatch", f"offer withdrawn: {accepted.call_sign} accepted")


async def cancel(uow: UnitOfWork, assignment: AssignmentRecord, actor: str, why: str) -> None:
    """End an assignment that is not final: its unit is freed and its timer dropped."""
    await end(uow, assignment, AssignmentStatus.CANCELLED, actor, why)


async def end(
    uow: UnitOfWork,
    assignment: AssignmentRecord,
    status: AssignmentStatus,
    actor: str,
    why: str,
) -> None:
    """Put an assignment in a final ``status`` from outside its own lifecycle (a close,
    a withdrawn offer): unit freed, timer dropped, a line on the timeline."""
    now = uow.clock.now()
    assignment.status = status.value
    assignment.updated_at = now
    assignment.updated_by = actor
    await finalize(uow, assignment)
    await cancel_timers(uow, assignment.id)
    timeline.record(
        uow.session,
        assignment.incident_id,
        at=now,
        kind=f"assignment.{status.value}",
        actor=actor,
        summary=f"{assignment.call_sign} ({assignment.role}) {status.value}: {why}",
        data={"assignment_id": assignment.id},
    )


async def cancel_timers(uow: UnitOfWork, assignment_id: str) -> None:
    """The offer was answered or withdrawn: its expiry has nothing left to do."""
    await uow.session.execute(
        update(TimerRecord)
        .where(TimerRecord.assignment_id == assignment_id, TimerRecord.fired_at.is_(None))
        .values(fired_at=uow.clock.now())
        .execution_options(synchronize_session=False)
    )


def _minutes(seconds: int) -> str:
    return f"{seconds} s" if seconds < 60 else f"{round(seconds / 60)} min"
