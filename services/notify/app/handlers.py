"""assignment.offered → one queued SMS for the unit's contact (sent by the delivery worker)."""

import logging
from collections.abc import Callable

from sqlalchemy import select

from schemas.envelope import CloudEvent, EventType
from schemas.events import AssignmentOffered
from schemas.vocabulary import NotificationStatus, Role
from services.common.clock import new_id
from services.common.consumer import Handler
from services.common.outbox import UnitOfWork
from services.notify.adapters.models import ContactRecord, MessageRecord
from services.notify.app.status import announce
from services.notify.app.telehealth import Links, open_session
from services.notify.domain.templates import OfferText, render_offer

log = logging.getLogger(__name__)


def make_handlers(wake_delivery: Callable[[], None], links: Links) -> dict[str, Handler]:
    async def on_assignment_offered(
        uow: UnitOfWork, event: CloudEvent, data: AssignmentOffered
    ) -> None:
        key = f"offer:{data.assignment_id}"
        if await uow.session.scalar(
            select(MessageRecord.id).where(MessageRecord.dedupe_key == key)
        ):
            log.info("notify.already_queued")
            return
        now = uow.clock.now()
        join_link = (
            await open_session(uow, data, links)
            if data.role == Role.TELEHEALTH and data.contact_phone
            else None
        )
        message = MessageRecord(
            id=new_id(),
            dedupe_key=key,
            incident_id=data.incident_id,
            assignment_id=data.assignment_id,
            incident_code=data.incident_code,
            expires_at=data.expires_at,
            to_phone=data.contact_phone or "",
            body=render_offer(
                OfferText(
                    data.incident_code,
                    data.role,
                    data.priority,
                    data.address,
                    data.lat,
                    data.lon,
                    join_link,
                )
            ),
            status=NotificationStatus.QUEUED.value,
            attempts=0,
            next_attempt_at=now,
            correlation_id=event.correlationid,
            traceparent=event.traceparent,
            created_at=now,
            updated_at=now,
        )
        uow.session.add(message)
        if not data.contact_phone:
            message.error_code = "no_contact"
            message.error_message = f"{data.call_sign} has no phone number on file"
            announce(uow, message, NotificationStatus.SKIPPED)
            return
        contact = await uow.session.get(ContactRecord, data.contact_phone)
        if contact is not None and contact.opted_out:
            # They texted STOP: no message, and dispatch moves the offer on.
            message.error_code = "opted_out"
            message.error_message = f"{data.call_sign}'s number has opted out (STOP)"
            announce(uow, message, NotificationStatus.SKIPPED)
            return
        announce(uow, message, NotificationStatus.QUEUED)
        uow.on_committed(wake_delivery)

    return {EventType.ASSIGNMENT_OFFERED: on_assignment_offered}
