"""dispatch's event handlers: a triage decision, a message's delivery news, a responder's reply."""

import logging
from datetime import datetime

from schemas.envelope import CloudEvent, EventType
from schemas.events import (
    CallTriaged,
    HandoffReplied,
    NotificationStatusChanged,
    ResponderReplied,
    TelehealthJoined,
)
from schemas.policy import PolicyBook
from schemas.vocabulary import AssignmentStatus, NotificationStatus, ReplyAnswer, ReplyChannel
from services.common.consumer import Handler
from services.common.outbox import UnitOfWork
from services.dispatch.adapters.models import (
    AssignmentRecord,
    IncidentRecord,
    NotificationRecord,
    UnitRecord,
)
from services.dispatch.app import handoffs, timeline
from services.dispatch.app.assignments import transition
from services.dispatch.app.dispatching import start
from services.dispatch.app.replan import after_release
from services.dispatch.domain.errors import AssignmentNotFound
from services.dispatch.domain.eta import EtaEstimator
from services.dispatch.domain.lifecycle import IllegalTransition

log = logging.getLogger(__name__)

UNDELIVERABLE = frozenset(
    {NotificationStatus.FAILED, NotificationStatus.UNDELIVERED, NotificationStatus.SKIPPED}
)
REPLY_STEP = {
    ReplyAnswer.ACCEPT: AssignmentStatus.ACCEPTED,
    ReplyAnswer.DECLINE: AssignmentStatus.DECLINED,
    ReplyAnswer.ARRIVED: AssignmentStatus.ON_SCENE,
    ReplyAnswer.DONE: AssignmentStatus.CLEARED,
}


# notify's error code when it skips a message because the phone sent STOP.
OPTED_OUT = "opted_out"


async def _mark_opted_out(uow: UnitOfWork, assignment_id: str, at: datetime) -> None:
    """The unit's phone opted out of SMS: not offered automatically again (the offer
    would never arrive) until its phone number changes; the board shows it."""
    assignment = await uow.session.get(AssignmentRecord, assignment_id)
    if assignment is None:
        return
    unit = await uow.session.get(UnitRecord, assignment.unit_id)
    if unit is None or unit.sms_opted_out:
        return
    unit.sms_opted_out = True
    unit.version += 1  # every change bumps it: other replicas' unit indexes notice by it
    unit.updated_at = at
    timeline.record(
        uow.session,
        assignment.incident_id,
        at=at,
        kind="unit.sms_opted_out",
        actor="notify",
        summary=f"{unit.call_sign}'s phone opted out of SMS (STOP): "
        "not offered automatically until its number changes",
        data={"unit_id": unit.id},
    )


def make_handlers(policies: PolicyBook, eta: EtaEstimator) -> dict[str, Handler]:

    async def on_call_triaged(uow: UnitOfWork, event: CloudEvent, data: CallTriaged) -> None:
        incident = await uow.session.get(IncidentRecord, data.incident_id)
        if incident is None:
            raise LookupError(f"call.triaged for unknown incident {data.incident_id}")
        if incident.triage is not None:
            log.info("dispatch.already_triaged")
            return
        decision = data.decision
        incident.triage = decision.model_dump(mode="json")
        incident.priority = decision.priority
        incident.response_model = decision.response_model.value
        incident.updated_at = uow.clock.now()
        timeline.record(
            uow.session,
            incident.id,
            at=uow.clock.now(),
            kind="call.triaged",
            actor="triage",
            summary=f"P{decision.priority} {decision.category.value}: "
            f"{decision.response_model.value} ({', '.join(r.value for r in decision.roles)})",
            event_id=event.id,
            data={"policy_version": decision.policy_version},
        )
        await start(uow, incident, policies.get(incident.jurisdiction), eta)
        log.info("dispatch.triaged", extra={"status": incident.status})

    async def on_notification_status(
        uow: UnitOfWork, event: CloudEvent, data: NotificationStatusChanged
    ) -> None:
        if await uow.session.get(IncidentRecord, data.incident_id) is None:
            raise LookupError(f"notification status for unknown incident {data.incident_id}")
        record = await uow.session.get(NotificationRecord, data.notification_id)
        if record is None:
            record = NotificationRecord(
                id=data.notification_id,
                incident_id=data.incident_id,
                assignment_id=data.assignment_id,
                channel=data.channel,
                status=data.status.value,
                to_masked=data.to_masked,
                updated_at=data.occurred_at,
            )
            uow.session.add(record)
        # Later states win; a late "sent" never overwrites "delivered" (the relay may
        # publish out of order after a retry).
        elif data.status.rank >= NotificationStatus(record.status).rank:
            record.status = data.status.value
            record.updated_at = data.occurred_at
        record.error_code = data.error_code or record.error_code
        record.error_message = data.error_message or record.error_message
        suffix = (
            f": {data.error_code} {data.error_message or ''}".rstrip() if data.error_code else ""
        )
        timeline.record(
            uow.session,
            data.incident_id,
            at=data.occurred_at,
            kind=f"notification.{data.status.value}",
            actor="notify",
            summary=f"{data.channel.upper()} to {data.to_masked or 'contact'} "
            f"{data.status.value}{suffix}",
            event_id=event.id,
            data={"notification_id": data.notification_id, "assignment_id": data.assignment_id},
        )
        if (
            data.status == NotificationStatus.SKIPPED
            and data.error_code == OPTED_OUT
            and data.assignment_id
        ):
            await _mark_opted_out(uow, data.assignment_id, data.occurred_at)
        if data.status in UNDELIVERABLE and data.assignment_id:
            # Nobody can accept an offer they never received: it escalates now
            # instead of waiting out its window.
            assignment = await uow.session.get(AssignmentRecord, data.assignment_id)
            if assignment is not None and assignment.status == AssignmentStatus.OFFERED.value:
                await transition(
                    uow,
                    assignment.id,
                    AssignmentStatus.DECLINED,
                    actor="notify",
                    policy_for=policies.get,
                    eta=eta,
                    reason=f"SMS {data.status.value}"
                    + (f" ({data.error_code})" if data.error_code else ""),
                )

    async def on_responder_replied(
        uow: UnitOfWork, event: CloudEvent, data: ResponderReplied
    ) -> None:
        wanted = REPLY_STEP[data.answer]
        by_link = data.channel == ReplyChannel.LINK
        actor = f"{'responder page of' if by_link else 'SMS from'} {data.from_masked}"
        try:
            moved = await transition(
                uow,
                data.assignment_id,
                wanted,
                actor=actor,
                policy_for=policies.get,
                eta=eta,
                reason="answered on the responder page" if by_link else "replied by SMS",
            )
            await after_release(uow, moved, policies.get, eta)
        except (IllegalTransition, AssignmentNotFound) as why:
            # A late or repeated answer ("Y" after the offer expired or was
            # withdrawn) is a fact for the timeline, not a failed event.
            timeline.record(
                uow.session,
                data.incident_id,
                at=data.received_at,
                kind="reply.ignored",
                actor=actor,
                summary=f"reply '{data.answer.value}' not applied: {why}",
                event_id=event.id,
                data={"assignment_id": data.assignment_id},
            )

    async def on_telehealth_joined(
        uow: UnitOfWork, event: CloudEvent, data: TelehealthJoined
    ) -> None:
        assignment = await uow.session.get(AssignmentRecord, data.assignment_id)
        who = assignment.call_sign if assignment else "the telehealth clinician"
        timeline.record(
            uow.session,
            data.incident_id,
            at=data.joined_at,
            kind="telehealth.joined",
            actor="notify",
            summary=f"clinician joined: {who} is in the video session",
            event_id=event.id,
            data={"assignment_id": data.assignment_id},
        )

    async def on_handoff_replied(uow: UnitOfWork, event: CloudEvent, data: HandoffReplied) -> None:
        await handoffs.answered(
            uow, data.handoff_id, data.accepted, f"SMS from {data.from_masked}", policies.get
        )

    return {
        EventType.CALL_TRIAGED: on_call_triaged,
        EventType.HANDOFF_REPLIED: on_handoff_replied,
        EventType.TELEHEALTH_JOINED: on_telehealth_joined,
        EventType.NOTIFICATION_STATUS: on_notification_status,
        EventType.RESPONDER_REPLIED: on_responder_replied,
    }


__all__ = ["make_handlers"]
