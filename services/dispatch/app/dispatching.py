"""From a triage decision to units on the way, and from the scene to a closed incident.

``plan``: recommend the best unit for every role, replacing an in-person
clinician by telehealth (plus an on-scene unit with a tablet) when none can
arrive within the policy's maximum ETA. ``start``: offer automatically for
the priorities the policy names, otherwise wait for a dispatcher, whose
choice (``confirm``) is offered as made; departing from the recommendation
needs a reason, which is kept. ``close``: only with a disposition; live
assignments are cancelled, and critical-incident exposure is counted for
every unit that was on scene, alerting a supervisor past the threshold.
"""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from schemas.policy import Policy
from schemas.vocabulary import (
    AlertKind,
    AssignmentStatus,
    Disposition,
    Flag,
    IncidentStatus,
    Role,
)
from services.common.outbox import UnitOfWork
from services.dispatch.adapters.models import (
    AssignmentRecord,
    ExposureRecord,
    IncidentRecord,
)
from services.dispatch.app import timeline
from services.dispatch.app.alerts import clear_ended, raise_alert
from services.dispatch.app.assignments import cancel_live
from services.dispatch.app.follow_up import schedule_if_needed
from services.dispatch.app.offers import offer_step, ranked_candidates, refresh_status
from services.dispatch.domain.errors import Conflict, Unprocessable
from services.dispatch.domain.eta import EtaEstimator
from services.dispatch.domain.recommend import Ranked, far_note, needs_telehealth
from services.dispatch.domain.roles import needed_by_role

PolicyLookup = Callable[[str], Policy]


async def plan(
    uow: UnitOfWork, incident: IncidentRecord, policy: Policy, eta: EtaEstimator
) -> dict[Role, list[Ranked]]:
    """The recommendation, one entry per role, stored on the incident; returns the
    ranked candidates per role so the first offers need not search again."""
    roles = [Role(r) for r in (incident.triage or {}).get("roles", [])]
    flags = (incident.triage or {}).get("flags", [])
    notes: list[str] = []
    ranked_by_role: dict[Role, list[Ranked]] = {}
    if Role.CLINICIAN in roles:
        best = await ranked_candidates(
            uow, incident, Role.CLINICIAN, policy, eta, set(), planned=set(roles)
        )
        ranked_by_role[Role.CLINICIAN] = best
        limits = policy.dispatch
        clinician_limit = limits.max_eta_minutes.clinician
        why = needs_telehealth(
            best[0] if best else None,
            min(limits.max_clinician_eta_minutes, clinician_limit) * 60,
        )
        # Without a telehealth program the clinician role stays: a far clinician is
        # still not offered automatically, and the role raises an alert instead.
        if why is not None and policy.programs.telehealth:
            ranked_by_role.clear()
            roles.remove(Role.CLINICIAN)
            roles.append(Role.TELEHEALTH)
            if not {Role.POLICE, Role.EMT} & set(roles):
                roles.append(Role(policy.telehealth_on_scene))
            notes.append(f"telehealth instead of an in-person clinician: {why}")
    if Role.TELEHEALTH in roles:
        notes.append("an on-scene unit carrying a telehealth tablet goes first")
    entries: list[dict[str, Any]] = []
    for role in roles:
        if role not in ranked_by_role:
            ranked_by_role[role] = await ranked_candidates(
                uow, incident, role, policy, eta, set(), set(roles)
            )
        ranked = ranked_by_role[role]
        entries.append(
            recommendation_entry(
                role,
                ranked,
                notes if role == Role.TELEHEALTH else [],
                needed=policy.dispatch.units_needed(role.value, flags),
            )
        )
    incident.recommendation = entries
    for note in notes[:1]:
        timeline.record(
            uow.session,
            incident.id,
            at=uow.clock.now(),
            kind="recommendation.telehealth_fallback",
            actor="dispatch",
            summary=note,
        )
    return ranked_by_role


def recommendation_entry(
    role: Role, ranked: list[Ranked], notes: list[str], needed: int = 1
) -> dict[str, Any]:
    """One role of the recommendation. A far unit (beyond the policy's maximum ETA) is
    never the recommended one: it is listed among the alternatives, marked far, and
    the entry's notes say why the role has no unit. ``needed``: units the role needs
    (the policy's cover); the ones after the best are ``cover_units``."""
    best = ranked[0] if ranked and not ranked[0].far else None
    cover = [r for r in ranked[1:needed] if best is not None and not r.far]
    others = [r for r in ranked if r is not best and r not in cover][:3]
    role_notes = list(notes)
    far = far_note(ranked)
    if far is not None:
        role_notes.append(far)
    if needed > 1 and len(cover) + (best is not None) < needed:
        role_notes.append(
            f"cover: {role.value} needs {needed} units; "
            f"{len(cover) + (best is not None)} within the policy maximum ETA"
        )
    if best is not None and best.mutual_aid:
        role_notes.append(
            f"mutual aid: no home-area unit for {role.value} within the policy maximum ETA; "
            f"{best.candidate.call_sign} ({best.candidate.agency}) comes from outside the area"
        )
    if best is not None:
        reasons = list(best.reasons)
    elif far is not None:
        reasons = [f"no unit available for {role.value} within the policy maximum ETA"]
    else:
        reasons = [f"no unit available for {role.value}"]
    return {
        "role": role.value,
        "unit_id": best.candidate.unit_id if best else None,
        "call_sign": best.candidate.call_sign if best else None,
        "eta_seconds": best.eta_seconds if best else None,
        "mutual_aid": best.mutual_aid if best else False,
        "reasons": reasons,
        "alternatives": [
            {
                "unit_id": r.candidate.unit_id,
                "call_sign": r.candidate.call_sign,
                "eta_seconds": r.eta_seconds,
                "far": r.far,
                "mutual_aid": r.mutual_aid,
            }
            for r in others
        ],
        "notes": role_notes,
        "needed": needed,
        "cover_units": [
            {
                "unit_id": r.candidate.unit_id,
                "call_sign": r.candidate.call_sign,
                "eta_seconds": r.eta_seconds,
                "mutual_aid": r.mutual_aid,
            }
            for r in cover
        ],
    }


async def start(
    uow: UnitOfWork, incident: IncidentRecord, policy: Policy, eta: EtaEstimator
) -> None:
    """After triage: recommend, then offer at once or wait for a dispatcher, per policy."""
    ranked_by_role = await plan(uow, incident, policy, eta)
    entries = incident.recommendation or []
    now = uow.clock.now()
    if incident.priority in policy.dispatch.auto_offer_priorities:
        incident.status = IncidentStatus.DISPATCHED.value
        needed = needed_by_role(entries)
        for role, ranked in ranked_by_role.items():
            await offer_step(
                uow,
                incident,
                role,
                policy,
                eta,
                loop=0,
                step=0,
                first=ranked,
                slots=needed.get(role.value, 1),
            )
        await refresh_status(uow, incident)
    else:
        incident.status = IncidentStatus.AWAITING_DISPATCH.value
        timeline.record(
            uow.session,
            incident.id,
            at=now,
            kind="recommendation.ready",
            actor="dispatch",
            summary="recommended: "
            + ", ".join(f"{e['role']} {e['call_sign'] or '(none)'}" for e in entries)
            + "; waiting for a dispatcher",
        )
    incident.updated_at = now


async def confirm(
    uow: UnitOfWork,
    incident: IncidentRecord,
    chosen: list[tuple[Role, str]],
    override_reason: str | None,
    actor: str,
    policy: Policy,
    eta: EtaEstimator,
) -> list[AssignmentRecord]:
    """A dispatcher sends these units; differing from the recommendation needs a reason."""
    if incident.status == IncidentStatus.CLOSED.value:
        raise Conflict(f"incident {incident.code} is closed")
    if incident.triage is None:
        raise Conflict(f"incident {incident.code} is not triaged yet")
    entries = incident.recommendation or []
    # Per role, the recommended units: the best, and with cover the others it needs.
    recommended = {
        e["role"]: [
            u for u in [e["unit_id"], *(c["unit_id"] for c in e.get("cover_units", []))] if u
        ]
        for e in entries
    }
    by_role: dict[Role, list[str]] = {}
    for role, unit_id in chosen:
        by_role.setdefault(role, []).append(unit_id)
    # A departure is a role the recommendation filled with another unit. A role it
    # left empty (nobody available, or only far units) has nothing to depart from,
    # and a role the order leaves out is not sent now: neither needs a reason.
    departs = [
        role
        for role, unit_ids in by_role.items()
        if recommended.get(role.value) and sorted(unit_ids) != sorted(recommended[role.value])
    ]
    if departs and not (override_reason and override_reason.strip()):
        raise Unprocessable(
            "override_reason",
            "these units differ from the recommendation for "
            + ", ".join(r.value for r in departs)
            + "; say why (it is kept on the timeline)",
        )
    manual = departs or [r for r in by_role if not recommended.get(r.value)]
    reason = override_reason.strip() if override_reason and manual else None
    unfilled = sorted(
        r for r, unit_ids in recommended.items() if not unit_ids and Role(r) not in by_role
    )
    if unfilled:
        timeline.record(
            uow.session,
            incident.id,
            at=uow.clock.now(),
            kind="recommendation.unfilled",
            actor=actor,
            summary="no unit available for " + ", ".join(unfilled) + "; the role stays unfilled",
        )
    offered: list[AssignmentRecord] = []
    for role, unit_ids in by_role.items():
        offered += await offer_step(
            uow,
            incident,
            role,
            policy,
            eta,
            loop=0,
            step=0,
            actor=actor,
            chosen=unit_ids,
            override_reason=reason,
        )
    incident.status = IncidentStatus.DISPATCHED.value
    incident.updated_at = uow.clock.now()
    await refresh_status(uow, incident)  # unassigned while a role has nobody
    return offered


async def close(
    uow: UnitOfWork,
    incident: IncidentRecord,
    disposition: Disposition,
    note: str | None,
    fatal_overdose: bool,
    actor: str,
    policy: Policy,
) -> None:
    if incident.status == IncidentStatus.CLOSED.value:
        raise Conflict(f"incident {incident.code} is already closed ({incident.disposition})")
    rows = await uow.session.execute(
        select(AssignmentRecord.unit_id, AssignmentRecord.call_sign).where(
            AssignmentRecord.incident_id == incident.id,
            AssignmentRecord.status.in_(
                [AssignmentStatus.ON_SCENE.value, AssignmentStatus.CLEARED.value]
            ),
        )
    )
    on_scene = {unit_id: call_sign for unit_id, call_sign in rows.all()}
    await cancel_live(uow, incident, actor, f"incident closed ({disposition.value})")
    now = uow.clock.now()  # after the assignments end, so the timeline reads in order
    incident.status = IncidentStatus.CLOSED.value
    incident.disposition = disposition.value
    incident.closed_at = now
    incident.closed_by = actor
    incident.updated_at = now
    timeline.record(
        uow.session,
        incident.id,
        at=now,
        kind="incident.closed",
        actor=actor,
        summary=f"closed: {disposition.value.replace('_', ' ')}" + (f" — {note}" if note else ""),
        data={"disposition": disposition.value},
    )
    schedule_if_needed(uow, incident, policy, fatal=fatal_overdose)
    await clear_ended(uow, incident)  # nothing is left to fill or place
    kinds = _critical_kinds(incident, fatal_overdose)
    if kinds and on_scene:
        await _count_exposure(uow, incident, on_scene, kinds, policy)


def _critical_kinds(incident: IncidentRecord, fatal_overdose: bool) -> list[str]:
    flags = set((incident.triage or {}).get("flags", []))
    kinds = []
    if fatal_overdose:
        kinds.append("fatal_overdose")
    if Flag.CHILDREN_PRESENT.value in flags:
        kinds.append("child_involved")
    if flags & {Flag.VIOLENCE.value, Flag.WEAPONS.value}:
        kinds.append("violent")
    return kinds


async def _count_exposure(
    uow: UnitOfWork,
    incident: IncidentRecord,
    call_signs: dict[str, str],
    kinds: list[str],
    policy: Policy,
) -> None:
    """``call_signs``: unit id → call sign of every unit that was on scene."""
    now = uow.clock.now()
    rule = policy.dispatch.wellbeing
    since = now - timedelta(days=rule.window_days)
    for unit_id, call_sign in sorted(call_signs.items()):
        uow.session.add(
            ExposureRecord(unit_id=unit_id, incident_id=incident.id, kinds=kinds, at=now)
        )
        await uow.session.flush()
        count = await uow.session.scalar(
            select(func.count())
            .select_from(ExposureRecord)
            .where(ExposureRecord.unit_id == unit_id, ExposureRecord.at >= since)
        )
        if count is not None and count >= rule.threshold:
            summary = (
                f"{call_sign} has worked {count} critical incidents in {rule.window_days} days "
                f"(threshold {rule.threshold}): check in with the responders"
            )
            raise_alert(
                uow,
                AlertKind.WELLBEING,
                incident,
                ["supervisor"],
                summary,
                supervisor_phones=policy.dispatch.supervisor_phones,
                unit_id=unit_id,
            )
