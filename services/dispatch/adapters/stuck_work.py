"""The work dispatch waits on, found in its tables: calls with no triage decision, offers
with no word from notify.

- **triage**: an incident still ``received`` has no decision. Its ``call.received``
  is sent again once it has been out for the check's deadline.
- **offer**: an assignment still ``offered`` with no delivery news beyond ``queued``
  never reached notify, or notify's answer never came back.
  Its ``assignment.offered`` is sent again; notify's inbox and its one-message-per-
  offer key make sure the responder is texted once.

Both read indexed columns and the outbox row of the question (its ``published_at``
is when it last went out, its ``resends`` how often it was sent again).
"""

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import exists, func, select

from schemas.envelope import EventType
from schemas.vocabulary import AssignmentStatus, IncidentStatus, NotificationStatus
from services.common.outbox import OutboxRecord, UnitOfWork
from services.common.reconcile import Check, Waiting
from services.dispatch.adapters.models import (
    AssignmentRecord,
    IncidentRecord,
    NotificationRecord,
)

# One pass handles at most this many of each; the next pass takes the rest.
_BATCH = 200


async def _untriaged(uow: UnitOfWork, cutoff: datetime) -> Sequence[Waiting]:
    rows = await uow.session.execute(
        select(
            OutboxRecord.event_id,
            IncidentRecord.id,
            OutboxRecord.published_at,
            IncidentRecord.received_at,
            OutboxRecord.resends,
        )
        .join(OutboxRecord, OutboxRecord.key == IncidentRecord.id)
        .where(
            IncidentRecord.status == IncidentStatus.RECEIVED.value,
            OutboxRecord.event_type == EventType.CALL_RECEIVED,
            OutboxRecord.published_at < cutoff,
        )
        .order_by(IncidentRecord.received_at)
        .limit(_BATCH)
    )
    return [
        Waiting(event_id, incident_id, incident_id, published_at, received_at, resends)
        for event_id, incident_id, published_at, received_at, resends in rows
    ]


async def _oldest_untriaged(uow: UnitOfWork) -> datetime | None:
    return await uow.session.scalar(
        select(func.min(IncidentRecord.received_at)).where(
            IncidentRecord.status == IncidentStatus.RECEIVED.value
        )
    )


# Queued is notify's first word, not its answer: an offer whose "sent" (or "failed")
# never came back is asked about again too, and notify re-sends every status it
# has for it. Notify still trying to deliver only says "queued" again: harmless.
_NO_STATUS = ~exists().where(
    NotificationRecord.assignment_id == AssignmentRecord.id,
    NotificationRecord.status != NotificationStatus.QUEUED.value,
)


async def _unreported_offers(uow: UnitOfWork, cutoff: datetime) -> Sequence[Waiting]:
    rows = await uow.session.execute(
        select(
            OutboxRecord.event_id,
            AssignmentRecord.incident_id,
            AssignmentRecord.id,
            OutboxRecord.published_at,
            AssignmentRecord.offered_at,
            OutboxRecord.resends,
        )
        .join(OutboxRecord, OutboxRecord.event_id == AssignmentRecord.offer_event_id)
        .where(
            AssignmentRecord.status == AssignmentStatus.OFFERED.value,
            OutboxRecord.published_at < cutoff,
            _NO_STATUS,
        )
        .order_by(AssignmentRecord.offered_at)
        .limit(_BATCH)
    )
    return [
        Waiting(event_id, incident_id, assignment_id, published_at, offered_at, resends)
        for event_id, incident_id, assignment_id, published_at, offered_at, resends in rows
    ]


async def _oldest_unreported_offer(uow: UnitOfWork) -> datetime | None:
    return await uow.session.scalar(
        select(func.min(AssignmentRecord.offered_at)).where(
            AssignmentRecord.status == AssignmentStatus.OFFERED.value, _NO_STATUS
        )
    )


def dispatch_checks(triage_after_s: float, offer_after_s: float) -> list[Check]:
    return [
        Check(
            "triage",
            EventType.CALL_RECEIVED,
            timedelta(seconds=triage_after_s),
            _untriaged,
            _oldest_untriaged,
        ),
        Check(
            "offer",
            EventType.ASSIGNMENT_OFFERED,
            timedelta(seconds=offer_after_s),
            _unreported_offers,
            _oldest_unreported_offer,
        ),
    ]
