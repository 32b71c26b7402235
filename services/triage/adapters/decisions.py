"""triage's decisions as the app sees them: looked up, stored, stripped of evidence.

The SQL lives here so that the handler and the retention purge say what they
do with a decision, not how a row is found.
"""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from schemas.triage import TriageDecision
from services.triage.adapters.models import DecisionRecord


class Decisions:
    """The decisions table, inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def exists(self, incident_id: str) -> bool:
        found = await self.session.scalar(
            select(DecisionRecord.incident_id).where(DecisionRecord.incident_id == incident_id)
        )
        return found is not None

    def add(self, incident_id: str, event_id: str, at: datetime, decision: TriageDecision) -> None:
        self.session.add(
            DecisionRecord(
                incident_id=incident_id,
                event_id=event_id,
                decided_at=at,
                policy_version=decision.policy_version,
                response_model=decision.response_model.value,
                priority=decision.priority,
                decision=decision.model_dump(mode="json"),
            )
        )

    async def strip_evidence(
        self, before: datetime, after: str, limit: int, now: datetime, *, lock: bool
    ) -> list[str]:
        """Up to ``limit`` decisions made before ``before`` (ids above ``after``, in
        order) lose their evidence; returns their incident ids."""
        query = (
            select(DecisionRecord)
            .where(
                DecisionRecord.decided_at < before,
                DecisionRecord.purged_at.is_(None),
                DecisionRecord.incident_id > after,
            )
            .order_by(DecisionRecord.incident_id)
            .limit(limit)
        )
        if lock:  # replicas share the work instead of repeating it
            query = query.with_for_update(skip_locked=True)
        batch = list((await self.session.scalars(query)).all())
        for record in batch:
            decision = TriageDecision.model_validate(record.decision).without_evidence()
            record.decision = decision.model_dump(mode="json")
            record.purged_at = now
        return [record.incident_id for record in batch]
