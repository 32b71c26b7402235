"""The retention purge in triage: old decisions lose the evidence that quotes the caller.

triage keeps its own copy of every decision, and each rule's evidence holds the
caller's words and answers. Decisions made longer ago than the retention
setting keep what was decided (priority, roles, flags, policy version) and
which rules fired; their evidence is removed, and published outbox events
(``call.triaged`` copies of it) are deleted. Triage does not learn when an
incident closes, so it goes by the decision's age: an incident is decided when
it is received and closed later, so triage's purge of an incident comes no
later than dispatch's. Only counts are logged.
"""

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from services.common import purge
from services.common.db import Database, Session
from services.triage.adapters.decisions import Decisions

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PurgeReport:
    cutoff: datetime
    decisions: int
    outbox_events: int
    dry_run: bool


async def purge_expired(
    db: Database,
    now: datetime,
    retention_days: int,
    *,
    dry_run: bool = False,
    batch_size: int = 200,
) -> PurgeReport:
    """Strip the evidence of every decision made before ``now - retention_days``.

    ``dry_run`` does the same work and rolls it back, so its counts are exact.
    """
    cutoff = now - timedelta(days=retention_days)

    async def strip(session: Session, after: str) -> list[str]:
        return await Decisions(session).strip_evidence(
            cutoff, after, batch_size, now, lock=not db.is_sqlite
        )

    decisions = await purge.in_batches(db, strip, batch_size=batch_size, dry_run=dry_run)
    outbox_events = await purge.published_outbox(db, cutoff, dry_run=dry_run)
    report = PurgeReport(cutoff, decisions, outbox_events, dry_run)
    log.info("retention.purged", extra={**asdict(report), "cutoff": cutoff.isoformat()})
    return report
