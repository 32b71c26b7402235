"""dispatch's own Prometheus metrics, read from its database at scrape time.

- assignments by status: what the board looks like now;
- open priority-1 incidents that nobody has accepted although their
  jurisdiction's whole escalation window has passed (the gauge to page on:
  by then dispatch has alerted supervisors, and still nobody is going).

Both are counts over indexed columns; no personal field is read (the
narrative and caller columns are encrypted and never selected here). Every
replica reads the same database, so every replica reports the same values:
aggregate them with ``max``, not ``sum``.
"""

from collections.abc import Callable
from datetime import timedelta

from prometheus_client import CollectorRegistry, Gauge
from sqlalchemy import exists, func, select

from schemas.policy import DEFAULT_ESCALATION, Policy, UnknownJurisdiction
from schemas.vocabulary import AssignmentStatus, IncidentStatus
from services.common.clock import Clock, as_utc
from services.common.db import Database
from services.dispatch.adapters.models import AssignmentRecord, IncidentRecord
from services.dispatch.domain.escalation import full_window

# A unit is going (or went): the incident has its answer.
ACCEPTED = (
    AssignmentStatus.ACCEPTED.value,
    AssignmentStatus.EN_ROUTE.value,
    AssignmentStatus.ON_SCENE.value,
    AssignmentStatus.CLEARED.value,
)


class DispatchMetrics:
    def __init__(
        self,
        registry: CollectorRegistry,
        db: Database,
        clock: Clock,
        policy_for: Callable[[str], Policy],
    ) -> None:
        self._db = db
        self._clock = clock
        self._policy_for = policy_for
        self.assignments = Gauge(
            "corespond_dispatch_assignments",
            "Assignments by status, read from the database at scrape time",
            ["status"],
            registry=registry,
        )
        self.p1_unaccepted = Gauge(
            "corespond_dispatch_p1_incidents_unaccepted",
            "Open priority-1 incidents with no accepted unit after their escalation window",
            registry=registry,
        )

    def _window(self, jurisdiction: str) -> timedelta:
        try:
            escalation = self._policy_for(jurisdiction).dispatch.escalation[1]
        except UnknownJurisdiction:
            escalation = DEFAULT_ESCALATION[1]
        return full_window(escalation)

    async def refresh(self) -> None:
        now = self._clock.now()
        accepted = exists().where(
            AssignmentRecord.incident_id == IncidentRecord.id,
            AssignmentRecord.status.in_(ACCEPTED),
        )
        async with self._db.session() as session:
            by_status = dict(
                (
                    await session.execute(
                        select(AssignmentRecord.status, func.count()).group_by(
                            AssignmentRecord.status
                        )
                    )
                ).all()
            )
            waiting = (
                await session.execute(
                    select(IncidentRecord.jurisdiction, IncidentRecord.received_at).where(
                        IncidentRecord.status != IncidentStatus.CLOSED.value,
                        IncidentRecord.priority == 1,
                        ~accepted,
                    )
                )
            ).all()
        for status in AssignmentStatus:
            self.assignments.labels(status.value).set(by_status.get(status.value, 0))
        self.p1_unaccepted.set(
            sum(
                1
                for jurisdiction, received_at in waiting
                if now - as_utc(received_at) > self._window(jurisdiction)
            )
        )
