"""Warm handoffs read and worked as FHIR referrals: ServiceRequest and Task reads, Task search,
and a provider's system moving its own Task.

Who sees what: dispatchers and supervisors (and admin) see every referral and act as
its requester (they may cancel); a treatment provider's API client (role
``provider``, bound to one organisation) sees only the Tasks it owns and the
ServiceRequests they focus on, and acts as the responder. Another provider's Task
is "not found", so ids reveal nothing.

A provider accepting or rejecting the Task it is being asked with is the same
answer as ``Y``/``N`` by SMS (``handoffs.answered``): a place is taken, or the next
provider is asked. Later steps (in progress, completed...) go on the incident's
timeline. A post-overdose follow-up visit is a Task owned by the jurisdiction's
outreach team (``fhir_mapping.outreach_team``), its ServiceRequest the visit's incident;
its steps go on that incident's timeline.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from schemas.policy import Policy
from schemas.vocabulary import HandoffStatus
from services.common.auth import Principal, StaffRole
from services.common.db import Database
from services.common.outbox import UnitOfWork
from services.dispatch.adapters.referral_tasks import ReferralRow, ReferralTasks
from services.dispatch.app import handoffs, timeline
from services.dispatch.domain import fhir_mapping as fhir
from services.dispatch.domain.errors import Conflict, NotFound
from services.dispatch.domain.referral_lifecycle import Party, TaskStatus, step

STAFF = frozenset({StaffRole.DISPATCHER, StaffRole.SUPERVISOR, StaffRole.ADMIN})
MAX_RESULTS = 200


class ReferralNotFound(NotFound):
    """No such Task or ServiceRequest, or not one this caller may see."""


class StaleVersion(Conflict):
    """``If-Match`` names another version of the Task than the stored one (412)."""


@dataclass(frozen=True)
class Caller:
    """Who reads or moves a referral: staff (every referral) or a provider (its own)."""

    principal: Principal
    organization_id: str | None  # None for staff

    @property
    def party(self) -> Party:
        return Party.REQUESTER if self.organization_id is None else Party.RESPONDER

    def may_see(self, owner_id: str | None) -> bool:
        return self.organization_id is None or self.organization_id == owner_id


async def caller(tasks: ReferralTasks, principal: Principal) -> Caller:
    """Staff see everything; a provider client only its organisation's; anyone else nothing."""
    if principal.has_any(STAFF):
        return Caller(principal, None)
    organization = None
    if StaffRole.PROVIDER in principal.roles and principal.kind == "client":
        organization = await tasks.client_organization(principal.subject_id)
    if organization is None:
        # Authenticated with the provider role but bound to no organisation: sees nothing.
        return Caller(principal, "(none)")
    return Caller(principal, fhir.organization_id(organization))


def task_resource(row: ReferralRow) -> dict[str, Any]:
    t = row.task
    return fhir.task(
        fhir.ReferralTask(
            id=t.id,
            # A handoff is its own ServiceRequest; a follow-up visit's is its incident.
            referral_id=t.handoff_id or t.incident_id,
            status=t.status,
            status_reason=t.status_reason,
            incident_code=row.incident.code,
            priority=row.incident.priority,
            service_name=row.service_name
            or (fhir.SERVICE_DISPLAY[fhir.FOLLOW_UP_SERVICE] if t.kind == "follow_up" else None),
            owner_id=t.owner_id,
            owner_name=t.owner_name,
            authored_on=t.authored_on,
            last_modified=t.last_modified,
            version=t.version,
        )
    )


async def _read_task(tasks: ReferralTasks, who: Caller, task_id: str) -> dict[str, Any]:
    task = await tasks.get(task_id)
    if task is None or not who.may_see(task.owner_id):
        raise ReferralNotFound(f"no Task {task_id!r}")
    return task_resource(await tasks.row(task))


async def _read_service_request(
    tasks: ReferralTasks, who: Caller, referral_id: str, *, share_substance_use: bool
) -> dict[str, Any]:
    handoff = await tasks.handoff(referral_id)
    mine = (
        await tasks.for_handoff(referral_id)
        if handoff
        else await tasks.follow_up_tasks(referral_id)
    )
    # Staff see every referral (even an unplaced one); a provider one it was asked for.
    staff = who.organization_id is None
    if not (handoff or mine) or not (staff or any(who.may_see(t.owner_id) for t in mine)):
        raise ReferralNotFound(f"no ServiceRequest {referral_id!r}")
    incident = await tasks.incident(handoff.incident_id if handoff else referral_id)
    assert incident is not None  # written with the handoff or the Task
    if handoff is None:  # a follow-up visit, asked of the outreach team
        owner = mine[-1]
        service_type, status, authored = fhir.FOLLOW_UP_SERVICE, "offered", owner.authored_on
        performer: tuple[str | None, str | None] = (owner.owner_id, owner.owner_name)
        updated = owner.last_modified
    else:
        service_type, status, authored = handoff.service_type, handoff.status, handoff.created_at
        asked = handoff.provider_id and handoff.organization
        performer = (
            (fhir.organization_id(handoff.organization), handoff.organization)
            if asked and handoff.organization
            else (None, None)
        )
        updated = max([handoff.updated_at, *(t.last_modified for t in mine)])
    return fhir.service_request(
        fhir.Referral(
            id=referral_id,
            handoff_status=status,
            service_type=service_type,
            incident_code=incident.code,
            priority=incident.priority,
            flags=tuple(str(f) for f in (incident.triage or {}).get("flags", [])),
            authored_on=authored,
            last_updated=updated,
            performer_id=performer[0],
            performer_name=performer[1],
            task_statuses=tuple(t.status for t in mine),
        ),
        share_substance_use=share_substance_use,
    )


async def _search_tasks(
    tasks: ReferralTasks,
    who: Caller,
    owner_ids: set[str] | None,
    statuses: set[str] | None,
    since: datetime | None,
    before: datetime | None,
) -> list[dict[str, Any]]:
    if who.organization_id is not None:
        # A provider's search is always within its own Tasks, whatever `owner` it names.
        owner_ids = {who.organization_id} & owner_ids if owner_ids else {who.organization_id}
    rows = await tasks.search(owner_ids, statuses, since, before, MAX_RESULTS)
    return [task_resource(r) for r in rows]


async def read_task(db: Database, principal: Principal, task_id: str) -> dict[str, Any]:
    async with db.session() as session:
        tasks = ReferralTasks(session)
        return await _read_task(tasks, await caller(tasks, principal), task_id)


async def read_service_request(
    db: Database, principal: Principal, referral_id: str, *, share_substance_use: bool
) -> dict[str, Any]:
    async with db.session() as session:
        tasks = ReferralTasks(session)
        who = await caller(tasks, principal)
        return await _read_service_request(
            tasks, who, referral_id, share_substance_use=share_substance_use
        )


async def search_tasks(
    db: Database,
    principal: Principal,
    owner_ids: set[str] | None,
    statuses: set[str] | None,
    since: datetime | None,
    before: datetime | None,
) -> list[dict[str, Any]]:
    async with db.session() as session:
        tasks = ReferralTasks(session)
        who = await caller(tasks, principal)
        return await _search_tasks(tasks, who, owner_ids, statuses, since, before)


# What a client's request asks of the Task as it now stands: (status, reason).
Change = Callable[[dict[str, Any]], tuple[TaskStatus, str | None]]


async def move_task(
    uow: UnitOfWork,
    principal: Principal,
    task_id: str,
    change: Change,
    policy_for: Callable[[str], Policy],
    expected_version: int | None = None,
) -> dict[str, Any]:
    """One step of a Task's lifecycle, asked by a provider's system or by staff."""
    tasks = ReferralTasks(uow.session)
    who = await caller(tasks, principal)
    task = await tasks.get(task_id)
    if task is None or not who.may_see(task.owner_id):
        raise ReferralNotFound(f"no Task {task_id!r}")
    wanted, reason = change(task_resource(await tasks.row(task)))
    if expected_version is not None and expected_version != task.version:
        raise StaleVersion(
            f"Task {task_id} is at version {task.version}, not {expected_version}; read it again"
        )
    current = TaskStatus(task.status)
    decided = step(current, wanted, who.party, reason)  # 409 / 422 before anything moves
    handoff = await tasks.handoff(task.handoff_id) if task.handoff_id else None
    actor = who.principal.subject
    offered = handoff is not None and handoff.status == HandoffStatus.OFFERED.value
    asked_now = handoff is not None and offered and handoff.provider_id == task.provider_id
    if handoff is not None and wanted in (TaskStatus.ACCEPTED, TaskStatus.REJECTED) and asked_now:
        # The same answer as Y/N by SMS; the handoff moves the Task itself.
        await handoffs.answered(
            uow,
            handoff.id,
            wanted == TaskStatus.ACCEPTED,
            actor,
            policy_for,
            reason=decided.reason,
        )
    elif handoff is not None and wanted == TaskStatus.CANCELLED and asked_now:
        # Withdrawn while being asked: corespond treats it as a decline and asks the next.
        await handoffs.answered(uow, handoff.id, False, actor, policy_for, reason=decided.reason)
        task.status = TaskStatus.CANCELLED.value
    else:
        task.status = decided.status.value
        task.status_reason = decided.reason
        task.last_modified = uow.clock.now()
        task.version += 1
        timeline.record(
            uow.session,
            task.incident_id,
            at=uow.clock.now(),
            kind=f"referral.{decided.status.value}",
            actor=actor,
            summary=f"referral to {task.owner_name} is {decided.status.value}"
            + (f": {decided.reason}" if decided.reason else ""),
            data={"handoff_id": task.handoff_id, "task_id": task.id},
        )
    return task_resource(await tasks.row(task))
