"""Inbox: the ids of events this service has already applied, written in the same transaction.

A redelivered event (a relay that re-published, a consumer that crashed before
committing its offset, a dead letter replayed) finds its id here and changes
nothing. This is what makes effects exactly-once on any broker.
"""

from datetime import datetime

from sqlalchemy import DateTime, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from schemas.envelope import CloudEvent
from services.common.db import RuntimeBase


class InboxRecord(RuntimeBase):
    __tablename__ = "inbox"

    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(128))
    subject: Mapped[str] = mapped_column(String(128), index=True)
    processed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


async def claim(session: AsyncSession, event: CloudEvent, now: datetime) -> bool:
    """Record the event as processed; False if it already was.

    Two replicas racing on the same event (only during a rebalance) both pass
    the read; the primary key stops the second at commit, and its retry then
    finds the row and skips.
    """
    seen = await session.scalar(
        select(InboxRecord.event_id).where(InboxRecord.event_id == event.id)
    )
    if seen is not None:
        return False
    session.add(
        InboxRecord(
            event_id=event.id, event_type=event.type, subject=event.subject, processed_at=now
        )
    )
    return True
