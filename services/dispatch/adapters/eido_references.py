"""The EIDO references repository: which CAD incident (EIDO ``$id``) is which incident here.

The app layer asks it questions in the field's words and never sees SQL (the layering
rule): find a reference, add one, which incidents a CAD may read, which are still active.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from schemas.vocabulary import IncidentStatus
from services.common.outbox import UnitOfWork
from services.dispatch.adapters.eido_models import EidoReferenceRecord
from services.dispatch.adapters.models import IncidentRecord
from services.dispatch.adapters.outcome_models import OutcomeRecord


class Collision(Exception):
    """The commit met a row another transaction wrote first: the same new ``$id`` posted
    twice at once, or an incident short code drawn twice. Trying again resolves both."""


async def commit(uow: UnitOfWork) -> None:
    """Commit ``uow``, naming a unique-key collision ``Collision``."""
    try:
        await uow.commit()
    except IntegrityError as error:
        raise Collision(str(error.orig)[:200]) from error


@dataclass(frozen=True)
class EidoReference:
    eido_id: str
    incident_id: str
    client: str
    apco_type: str | None
    last_update: datetime
    note_ids: tuple[str, ...]


def _reference(record: EidoReferenceRecord) -> EidoReference:
    return EidoReference(
        eido_id=record.eido_id,
        incident_id=record.incident_id,
        client=record.client,
        apco_type=record.apco_type,
        last_update=record.last_update,
        note_ids=tuple(record.note_ids),
    )


class EidoReferences:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_eido_id(self, eido_id: str) -> EidoReference | None:
        record = await self.session.get(EidoReferenceRecord, eido_id)
        return _reference(record) if record else None

    async def by_incident(self, incident_id: str) -> EidoReference | None:
        record = await self.session.scalar(
            select(EidoReferenceRecord).where(EidoReferenceRecord.incident_id == incident_id)
        )
        return _reference(record) if record else None

    def add(
        self,
        *,
        eido_id: str,
        incident_id: str,
        client: str,
        issuing_element: str,
        apco_type: str | None,
        last_update: datetime,
        note_ids: Sequence[str],
        received_at: datetime,
    ) -> None:
        self.session.add(
            EidoReferenceRecord(
                eido_id=eido_id,
                incident_id=incident_id,
                client=client,
                issuing_element=issuing_element,
                apco_type=apco_type,
                last_update=last_update,
                note_ids=list(note_ids),
                received_at=received_at,
            )
        )

    async def updated(self, eido_id: str, last_update: datetime, note_ids: Sequence[str]) -> None:
        record = await self.session.get(EidoReferenceRecord, eido_id)
        if record is not None:
            record.last_update = last_update
            record.note_ids = sorted(set(note_ids))

    async def handed_over_by(self, client: str, incident_ids: Sequence[str]) -> set[str]:
        """Of ``incident_ids``, those ``client`` handed over itself."""
        rows = await self.session.scalars(
            select(EidoReferenceRecord.incident_id).where(
                EidoReferenceRecord.incident_id.in_(list(incident_ids)),
                EidoReferenceRecord.client == client,
            )
        )
        return set(rows)

    async def active_incidents(self, limit: int) -> list[str]:
        """The newest incidents not yet closed (what a new subscription is told of first)."""
        rows = await self.session.scalars(
            select(IncidentRecord.id)
            .where(IncidentRecord.status != IncidentStatus.CLOSED.value)
            .order_by(IncidentRecord.received_at.desc())
            .limit(limit)
        )
        return list(rows)

    async def disposition_code(self, incident_id: str) -> str | None:
        """The APCO disposition code chosen when ``incident_id`` closed, if one was."""
        code: str | None = await self.session.scalar(
            select(OutcomeRecord.apco_disposition).where(OutcomeRecord.incident_id == incident_id)
        )
        return code
