"""Events that become SMS: an offer to a unit's contact, a follow-up reminder to the outreach team.

Each is queued once and sent by the delivery worker.
"""

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select

from schemas.envelope import CloudEvent, EventType
from schemas.events import (
    AlertRaised,
    AssignmentEnded,
    AssignmentOffered,
    FollowUpDue,
    HandoffOffered,
)
from schemas.vocabulary import AssignmentStatus, NotificationStatus, Role
from services.common.clock import new_id
from services.common.consumer import Handler
from services.common.outbox import UnitOfWork
from services.notify.adapters.models import ContactRecord, MessageRecord
from services.notify.app.responder_links import issue_link
from services.notify.app.status import announce
from services.notify.app.telehealth import Links, open_session
from services.notify.domain.templates import (
    FollowUpText,
    OfferText,
    render_alert,
    render_follow_up,
    render_handoff,
    render_offer,
    render_withdrawn,
)

log = logging.getLogger(__name__)

# An offer's ``answer`` once its assignment is over: no reply matches it any more.
ENDED = "ended"
REACHED = frozenset({NotificationStatus.SENT.value, NotificationStatus.DELIVERED.value})


async def queue_message(
    uow: UnitOfWork,
    event: CloudEvent,
    *,
    dedupe_key: str,
    incident_id: str,
    to_phone: str | None,
    body: str,
    who: str,
    assignment_id: str | None = None,
    handoff_id: str | None = None,
    incident_code: str | None = None,
    expires_at: datetime | None = None,
) -> bool:
    """Queue one logical message (once per ``dedupe_key``); True if it will be sent.

    No number on file, or a number that texted STOP, is recorded as skipped and
    announced, so dispatch can move on instead of waiting for an answer.
    """
    if await uow.session.scalar(
        select(MessageRecord.id).where(MessageRecord.dedupe_key == dedupe_key)
    ):
        log.info("notify.already_queued")
        return False
    now = uow.clock.now()
    message = MessageRecord(
        id=new_id(),
        dedupe_key=dedupe_key,
        incident_id=incident_id,
        assignment_id=assignment_id,
        handoff_id=handoff_id,
        incident_code=incident_code,
        expires_at=expires_at,
        to_phone=to_phone or "",
        body=body,
        status=NotificationStatus.QUEUED.value,
        attempts=0,
        next_attempt_at=now,
        correlation_id=event.correlationid,
        traceparent=event.traceparent,
        cause_event_id=event.id,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(message)
    if not to_phone:
        message.error_code = "no_contact"
        message.error_message = f"{who} has no phone number on file"
        announce(uow, message, NotificationStatus.SKIPPED)
        return False
    contact = await uow.session.get(ContactRecord, to_phone)
    if contact is not None and contact.opted_out:
        # They texted STOP: no message, and dispatch moves the offer on.
        message.error_code = "opted_out"
        message.error_message = f"{who}'s number has opted out (STOP)"
        announce(uow, message, NotificationStatus.SKIPPED)
        return False
    announce(uow, message, NotificationStatus.QUEUED)
    return True


def make_handlers(wake_delivery: Callable[[], None], links: Links) -> dict[str, Handler]:
    async def on_assignment_offered(
        uow: UnitOfWork, event: CloudEvent, data: AssignmentOffered
    ) -> None:
        link = video = None
        if data.contact_phone:
            token = await issue_link(uow, data)
            if data.role == Role.TELEHEALTH:
                link = await open_session(uow, data, links, token)
            else:
                link = links.page(token)
                if data.video_session:
                    # On scene for a video clinician: the same room, by its own link.
                    video = await open_session(uow, data, links, token)
        text = OfferText(
            data.incident_code,
            data.role,
            data.priority,
            data.address,
            data.lat,
            data.lon,
            link,
            video,
        )
        if await queue_message(
            uow,
            event,
            dedupe_key=f"offer:{data.assignment_id}",
            incident_id=data.incident_id,
            to_phone=data.contact_phone,
            body=render_offer(text),
            who=data.call_sign,
            assignment_id=data.assignment_id,
            incident_code=data.incident_code,
            expires_at=data.expires_at,
        ):
            uow.on_committed(wake_delivery)

    async def on_follow_up_due(uow: UnitOfWork, event: CloudEvent, data: FollowUpDue) -> None:
        if await queue_message(
            uow,
            event,
            dedupe_key=f"followup:{data.incident_id}",
            incident_id=data.incident_id,
            to_phone=data.team_phone,
            body=render_follow_up(
                FollowUpText(data.incident_code, data.address, data.lat, data.lon)
            ),
            who="the outreach team",
        ):
            uow.on_committed(wake_delivery)

    async def on_assignment_ended(
        uow: UnitOfWork, event: CloudEvent, data: AssignmentEnded
    ) -> None:
        offer = await uow.session.scalar(
            select(MessageRecord).where(MessageRecord.dedupe_key == f"offer:{data.assignment_id}")
        )
        if offer is None or offer.answer == ENDED:
            return
        unanswered = offer.answer is None
        offer.answer = ENDED  # no reply can match it any more
        reached = offer.status in {
            NotificationStatus.SENT.value,
            NotificationStatus.DELIVERED.value,
        }
        if not (data.status == AssignmentStatus.CANCELLED and unanswered and reached):
            return
        # They were asked and have not answered: tell them not to go.
        queued = await queue_message(
            uow,
            event,
            dedupe_key=f"withdrawn:{data.assignment_id}",
            incident_id=data.incident_id,
            to_phone=offer.to_phone,
            body=render_withdrawn(offer.incident_code or "?"),
            who="the responder",
            assignment_id=data.assignment_id,
        )
        if queued:
            uow.on_committed(wake_delivery)

    async def on_handoff_offered(uow: UnitOfWork, event: CloudEvent, data: HandoffOffered) -> None:
        if await queue_message(
            uow,
            event,
            dedupe_key=f"handoff:{data.handoff_id}:{data.contact_phone}",
            incident_id=data.incident_id,
            to_phone=data.contact_phone,
            body=render_handoff(data.incident_code, data.service_name),
            who=data.organization,
            handoff_id=data.handoff_id,
            incident_code=data.incident_code,
            expires_at=data.expires_at,
        ):
            uow.on_committed(wake_delivery)

    async def on_alert_raised(uow: UnitOfWork, event: CloudEvent, data: AlertRaised) -> None:
        body = render_alert(data.incident_code, data.kind)
        for phone in data.phones:
            if await queue_message(
                uow,
                event,
                dedupe_key=f"alert:{data.alert_id}:{phone}",
                incident_id=data.incident_id,
                to_phone=phone,
                body=body,
                who="the supervisor",
            ):
                uow.on_committed(wake_delivery)

    return {
        EventType.ALERT_RAISED: on_alert_raised,
        EventType.HANDOFF_OFFERED: on_handoff_offered,
        EventType.ASSIGNMENT_OFFERED: on_assignment_offered,
        EventType.ASSIGNMENT_ENDED: on_assignment_ended,
        EventType.FOLLOW_UP_DUE: on_follow_up_due,
    }
