"""Post-overdose follow-up: scheduled when the incident closes, opened as its own incident when due.

When an incident flagged as a suspected overdose closes, a stored timer is set
for the policy's ``follow_up.hours`` (24 to 72). When it fires, a follow-up
incident is created from the original's place (``source: follow_up``, so
triage routes it to a clinician at priority 3, DOMAIN principle 8) and the
outreach team is reminded by SMS through notify. The visit is also a FHIR Task
owned by the outreach team (``referral_offers.follow_up_opened``), so the team's
system records it accepted, in progress and completed as providers do a handoff.
"""

from datetime import timedelta

from schemas.calls import CallSubmission, Location
from schemas.envelope import EventType
from schemas.events import FollowUpDue
from schemas.policy import Policy
from schemas.vocabulary import CallSource, Flag
from services.common.auth import Principal
from services.common.clock import as_utc, new_id
from services.common.outbox import UnitOfWork
from services.dispatch.adapters.models import IncidentRecord, TimerRecord
from services.dispatch.app import referral_offers, timeline
from services.dispatch.app.intake import submit_call

FOLLOW_UP = "follow_up"
SYSTEM = Principal(subject="dispatch", roles=frozenset())


def schedule_if_needed(
    uow: UnitOfWork, incident: IncidentRecord, policy: Policy, *, fatal: bool
) -> None:
    rule = policy.dispatch.follow_up
    flags = set((incident.triage or {}).get("flags", []))
    if not rule.after_overdose or Flag.OVERDOSE.value not in flags or fatal:
        return
    if incident.source == CallSource.FOLLOW_UP.value:
        return  # a follow-up does not schedule another
    due = uow.clock.now() + timedelta(hours=rule.hours)
    uow.session.add(TimerRecord(id=new_id(), kind=FOLLOW_UP, incident_id=incident.id, due_at=due))
    timeline.record(
        uow.session,
        incident.id,
        at=uow.clock.now(),
        kind="follow_up.scheduled",
        actor="dispatch",
        summary=f"post-overdose outreach visit scheduled in {rule.hours} h",
        data={"due_at": due.isoformat()},
    )


async def open_follow_up(uow: UnitOfWork, timer: TimerRecord, policy: Policy) -> None:
    original = await uow.session.get(IncidentRecord, timer.incident_id)
    if original is None:
        return
    call = CallSubmission(
        narrative=f"post-overdose outreach visit (follow-up of incident {original.code})",
        location=Location.model_validate(original.location or {}),
        source=CallSource.FOLLOW_UP,
        jurisdiction=original.jurisdiction,
    )
    visit = await submit_call(uow, call, SYSTEM)
    referral_offers.follow_up_opened(uow, visit.id, visit.jurisdiction)
    timeline.record(
        uow.session,
        original.id,
        at=uow.clock.now(),
        kind="follow_up.opened",
        actor="dispatch",
        summary=f"follow-up visit opened as incident {visit.code}",
        data={"incident_id": visit.id},
    )
    team = policy.dispatch.follow_up.team_phone
    if team:
        where = visit.location or {}
        uow.emit(
            EventType.FOLLOW_UP_DUE,
            visit.id,
            FollowUpDue(
                incident_id=visit.id,
                incident_code=visit.code,
                address=where.get("address"),
                lat=where.get("lat"),
                lon=where.get("lon"),
                team_phone=team,
                due_at=as_utc(timer.due_at),
            ),
        )
