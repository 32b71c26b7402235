"""Each provider asked for a warm handoff gets a referral Task; its answer moves the Task.
A post-overdose follow-up visit is a Task too, owned by the jurisdiction's outreach team.

Called by ``app/handoffs.py`` at each step, whichever channel the answer came by
(the provider's system over FHIR, or its on-call contact by SMS), so the Task a
provider reads always says what corespond believes: requested when asked,
accepted or rejected (with the reason) when it answered, cancelled by corespond
when it let the request lapse.
"""

from services.common.outbox import UnitOfWork
from services.dispatch.adapters.referral_tasks import ReferralTasks
from services.dispatch.domain.fhir_mapping import organization_id, outreach_team
from services.dispatch.domain.referral_lifecycle import Party, TaskStatus, step


def asked(
    uow: UnitOfWork, handoff_id: str, incident_id: str, provider_id: str, organization: str
) -> None:
    ReferralTasks(uow.session).open(
        handoff_id,
        incident_id,
        provider_id,
        owner_id=organization_id(organization),
        owner_name=organization,
        status=TaskStatus.REQUESTED.value,
        at=uow.clock.now(),
    )


def follow_up_opened(uow: UnitOfWork, visit_incident_id: str, jurisdiction: str) -> None:
    """The visit is asked of the outreach team; its completion is recorded on the Task."""
    team = outreach_team(jurisdiction)
    ReferralTasks(uow.session).open(
        None,
        visit_incident_id,
        None,
        owner_id=organization_id(team),
        owner_name=team,
        status=TaskStatus.REQUESTED.value,
        at=uow.clock.now(),
        kind="follow_up",
    )


async def answered(
    uow: UnitOfWork, handoff_id: str, provider_id: str | None, accepted: bool, reason: str | None
) -> None:
    wanted = TaskStatus.ACCEPTED if accepted else TaskStatus.REJECTED
    await _move(uow, handoff_id, provider_id, wanted, Party.RESPONDER, reason or "declined")


async def lapsed(uow: UnitOfWork, handoff_id: str, provider_id: str | None, reason: str) -> None:
    await _move(uow, handoff_id, provider_id, TaskStatus.CANCELLED, Party.REQUESTER, reason)


async def _move(
    uow: UnitOfWork,
    handoff_id: str,
    provider_id: str | None,
    wanted: TaskStatus,
    party: Party,
    reason: str | None,
) -> None:
    if provider_id is None:
        return
    task = await ReferralTasks(uow.session).live_for_handoff(handoff_id, provider_id)
    if task is None:  # asked before referrals were Tasks (an upgraded database)
        return
    decided = step(TaskStatus(task.status), wanted, party, reason)
    task.status = decided.status.value
    task.status_reason = decided.reason if wanted != TaskStatus.ACCEPTED else None
    task.last_modified = uow.clock.now()
    task.version += 1
