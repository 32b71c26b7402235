"""Announcing a message's delivery state to dispatch (through the outbox)."""

from schemas.envelope import EventType
from schemas.events import NotificationStatusChanged
from schemas.vocabulary import NotificationStatus
from services.common.logs import mask_phone
from services.common.outbox import UnitOfWork
from services.notify.adapters.models import MessageRecord


def announce(uow: UnitOfWork, message: MessageRecord, status: NotificationStatus) -> None:
    now = uow.clock.now()
    message.status = status.value
    message.updated_at = now
    uow.emit(
        EventType.NOTIFICATION_STATUS,
        message.incident_id,
        NotificationStatusChanged(
            notification_id=message.id,
            incident_id=message.incident_id,
            assignment_id=message.assignment_id,
            status=status,
            to_masked=mask_phone(message.to_phone),
            provider_message_id=message.provider_message_id,
            error_code=message.error_code,
            error_message=message.error_message,
            occurred_at=now,
        ),
        answers=message.cause_event_id,
    )
