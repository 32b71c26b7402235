"""Referral Tasks and what a FHIR view of them needs (handoff, incident, provider), in SQL.

The app layer (``app/referrals.py``) says what happens to a referral; this module
knows how the rows are found and written, inside the caller's transaction.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.clock import new_id
from services.dispatch.adapters.identity_models import ClientRecord
from services.dispatch.adapters.models import (
    HandoffRecord,
    IncidentRecord,
    ProviderRecord,
    ReferralTaskRecord,
)


@dataclass(frozen=True)
class ReferralRow:
    """A Task with the records its FHIR form is built from."""

    task: ReferralTaskRecord
    handoff: HandoffRecord | None  # None for a follow-up visit
    incident: IncidentRecord
    service_name: str | None


class ReferralTasks:
    """The referral_tasks table, inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def open(
        self,
        handoff_id: str | None,
        incident_id: str,
        provider_id: str | None,
        *,
        owner_id: str,
        owner_name: str,
        status: str,
        at: datetime,
        kind: str = "handoff",
    ) -> ReferralTaskRecord:
        task = ReferralTaskRecord(
            id=new_id(),
            kind=kind,
            handoff_id=handoff_id,
            incident_id=incident_id,
            provider_id=provider_id,
            owner_id=owner_id,
            owner_name=owner_name,
            status=status,
            authored_on=at,
            last_modified=at,
            version=1,
        )
        self.session.add(task)
        return task

    async def get(self, task_id: str) -> ReferralTaskRecord | None:
        return await self.session.get(ReferralTaskRecord, task_id)

    async def live_for_handoff(
        self, handoff_id: str, provider_id: str
    ) -> ReferralTaskRecord | None:
        """The Task of the provider being asked now (requested or received), if any."""
        found: ReferralTaskRecord | None = await self.session.scalar(
            select(ReferralTaskRecord)
            .where(
                ReferralTaskRecord.handoff_id == handoff_id,
                ReferralTaskRecord.provider_id == provider_id,
                ReferralTaskRecord.status.in_(("requested", "received")),
            )
            .order_by(ReferralTaskRecord.authored_on.desc())
            .limit(1)
        )
        return found

    async def for_handoff(self, handoff_id: str) -> list[ReferralTaskRecord]:
        rows = await self.session.scalars(
            select(ReferralTaskRecord)
            .where(ReferralTaskRecord.handoff_id == handoff_id)
            .order_by(ReferralTaskRecord.authored_on, ReferralTaskRecord.id)
        )
        return list(rows.all())

    async def row(self, task: ReferralTaskRecord) -> ReferralRow:
        handoff = (
            await self.session.get(HandoffRecord, task.handoff_id) if task.handoff_id else None
        )
        incident = await self.session.get(IncidentRecord, task.incident_id)
        assert incident is not None  # written with the Task
        provider = (
            await self.session.get(ProviderRecord, task.provider_id) if task.provider_id else None
        )
        return ReferralRow(task, handoff, incident, provider.service_name if provider else None)

    async def follow_up_tasks(self, incident_id: str) -> list[ReferralTaskRecord]:
        """The Tasks of a follow-up visit (its incident is the ServiceRequest)."""
        rows = await self.session.scalars(
            select(ReferralTaskRecord)
            .where(
                ReferralTaskRecord.kind == "follow_up",
                ReferralTaskRecord.incident_id == incident_id,
            )
            .order_by(ReferralTaskRecord.authored_on, ReferralTaskRecord.id)
        )
        return list(rows.all())

    async def handoff(self, handoff_id: str) -> HandoffRecord | None:
        return await self.session.get(HandoffRecord, handoff_id)

    async def incident(self, incident_id: str) -> IncidentRecord | None:
        return await self.session.get(IncidentRecord, incident_id)

    async def search(
        self,
        owner_ids: set[str] | None,
        statuses: set[str] | None,
        since: datetime | None,
        before: datetime | None,
        limit: int,
    ) -> list[ReferralRow]:
        query = select(ReferralTaskRecord).order_by(
            ReferralTaskRecord.last_modified.desc(), ReferralTaskRecord.id
        )
        if owner_ids is not None:
            query = query.where(ReferralTaskRecord.owner_id.in_(owner_ids))
        if statuses is not None:
            query = query.where(ReferralTaskRecord.status.in_(statuses))
        if since is not None:
            query = query.where(ReferralTaskRecord.last_modified >= since)
        if before is not None:
            query = query.where(ReferralTaskRecord.last_modified < before)
        tasks = (await self.session.scalars(query.limit(limit))).all()
        return [await self.row(t) for t in tasks]

    async def client_organization(self, client_id: str) -> str | None:
        """The organisation a provider's API client acts for (None: not bound to one)."""
        client = await self.session.get(ClientRecord, client_id)
        return client.organization if client is not None and client.revoked_at is None else None
