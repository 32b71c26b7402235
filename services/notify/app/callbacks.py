"""Delivery news from the provider (Twilio status callbacks) applied to a message, once.

States only move forward (a late "sent" never overwrites "delivered"), so a
duplicate or reordered callback changes nothing. A permanent failure is
announced to dispatch like any other state; dispatch moves the offer on.
"""

from sqlalchemy import select

from schemas.vocabulary import NotificationStatus
from services.common.outbox import UnitOfWork
from services.notify.adapters.models import MessageRecord
from services.notify.app.status import announce

# Twilio's MessageStatus values we record; "queued", "accepted", "sending" and
# the like add nothing to what notify already announced when it handed the message over.
_FROM_TWILIO = {
    "sent": NotificationStatus.SENT,
    "delivered": NotificationStatus.DELIVERED,
    "undelivered": NotificationStatus.UNDELIVERED,
    "failed": NotificationStatus.FAILED,
}


async def apply_status(
    uow: UnitOfWork, provider_id: str, provider_status: str, error_code: str | None
) -> bool:
    """True when the callback changed something."""
    status = _FROM_TWILIO.get(provider_status.lower())
    if status is None:
        return False
    message = await uow.session.scalar(
        select(MessageRecord).where(MessageRecord.provider_message_id == provider_id)
    )
    if message is None:
        return False  # not ours (or not recorded yet: Twilio retries callbacks)
    current = NotificationStatus(message.status)
    if status == current or status.rank < current.rank or current.final:
        return False
    if error_code:
        message.error_code = error_code
        message.error_message = f"Twilio error {error_code}"
    uow.correlation_id, uow.traceparent = message.correlation_id, message.traceparent
    announce(uow, message, status)
    return True
