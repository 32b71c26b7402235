"""End-to-end reconciliation: work still waiting for an answer is asked for again.

The outbox proves that an event was handed to the broker, not that it arrived:
a broker that restarts empty (the embedded Tansu keeps topics in memory) or an
Apache Kafka partition lost with its replicas drops events the relay already
marked sent. So a service that waits for an answer checks, every
``reconcile_interval_s``, for work that has waited longer than the check's
deadline, and puts the event that asked for the answer back into its outbox
(same event id; ``outbox.requeue``). The receiver's inbox keeps the effect
exactly-once, and a receiver that did handle it sends its stored answer again
(``EventConsumer._answer_again``), in case the answer is what was lost.

Each check counts its re-sends; one that has been re-sent ``max_resends`` times
and still has no answer is given up on: counted, logged as an error, and handed
to ``on_gave_up`` (dispatch raises a supervisor alert), because re-sending more
would not help. The oldest waiting item of each check is kept for ``/healthz``.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services.common.clock import Clock, as_utc
from services.common.metrics import ServiceMetrics
from services.common.outbox import UnitOfWork
from services.common.waits import wait_any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Waiting:
    """One piece of work without its answer: what to re-send and how often it was."""

    event_id: str  # the question: the outbox event to send again
    incident_id: str
    item_id: str  # what waits (an incident, an assignment): for logs and alerts
    since: datetime | None  # when the question last went out (its outbox row's published_at)
    waiting_since: datetime  # when the work began to wait (for health: its whole age)
    resends: int


@dataclass(frozen=True)
class Check:
    """Work that waits for an answer, and the event that asks for it."""

    name: str  # e.g. "triage": the metrics label and the health key
    event_type: str  # the question (for logs): re-sent from the outbox when no answer came
    after: timedelta  # how long an answer may take before the question is sent again
    # Every item without its answer whose question was published before ``cutoff``.
    find: Callable[[UnitOfWork, datetime], Awaitable[Sequence[Waiting]]]
    # Every item without its answer, however recent: the oldest one's age for health.
    oldest: Callable[[UnitOfWork], Awaitable[datetime | None]]


GaveUp = Callable[[UnitOfWork, Check, Waiting], Awaitable[None]]


@dataclass
class Reconciler:
    checks: Sequence[Check]
    unit_of_work: Callable[[], UnitOfWork]
    clock: Clock
    metrics: ServiceMetrics
    interval_s: float
    max_resends: int
    on_gave_up: GaveUp | None = None
    # check name → the oldest unanswered item's start, as of the last pass.
    oldest: dict[str, datetime | None] = field(default_factory=dict)
    # check name → how many items were given up on in the last pass and still wait.
    given_up: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for check in self.checks:
            self.metrics.reconcile_resent.labels(check.name)
            self.metrics.reconcile_gave_up.labels(check.name)

    async def run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            try:
                await self.pass_once()
            except Exception as exc:  # the database is away: the next pass catches up
                log.warning("reconcile.failed", extra={"error": repr(exc)})
            await wait_any(stopping, timeout_s=self.interval_s)

    async def pass_once(self) -> dict[str, int]:
        """One look at every check; returns how many questions each re-sent."""
        resent: dict[str, int] = {}
        for check in self.checks:
            resent[check.name] = await self._reconcile(check)
        return resent

    async def _reconcile(self, check: Check) -> int:
        now = self.clock.now()
        resent = gave_up = 0
        async with self.unit_of_work() as uow:
            self.oldest[check.name] = await check.oldest(uow)
            for item in await check.find(uow, now - check.after):
                if item.resends >= self.max_resends:
                    gave_up += 1
                    if item.resends == self.max_resends:
                        await self._give_up(uow, check, item)
                    continue
                if await uow.requeue_event(item.event_id):
                    resent += 1
                    log.warning(
                        "reconcile.resent",
                        extra={
                            "check": check.name,
                            "incident_id": item.incident_id,
                            "item": item.item_id,
                            "event_type": check.event_type,
                            "resend": item.resends + 1,
                            "waited_s": _age_s(now, item.since),
                        },
                    )
            await uow.commit()
        self.given_up[check.name] = gave_up
        if resent:
            self.metrics.reconcile_resent.labels(check.name).inc(resent)
        return resent

    async def _give_up(self, uow: UnitOfWork, check: Check, item: Waiting) -> None:
        # Counted as one more re-send without sending, so the next pass sees it past
        # the maximum and this fires once per item.
        await uow.requeue_event(item.event_id, send=False)
        self.metrics.reconcile_gave_up.labels(check.name).inc()
        log.error(
            "reconcile.gave_up",
            extra={
                "check": check.name,
                "incident_id": item.incident_id,
                "item": item.item_id,
                "resends": item.resends,
            },
        )
        if self.on_gave_up is not None:
            await self.on_gave_up(uow, check, item)

    def waiting_s(self, now: datetime) -> dict[str, float]:
        """Each check's oldest unanswered item's age in seconds (0 when none waits)."""
        return {
            check.name: max(_age_s(now, self.oldest.get(check.name)) or 0.0, 0.0)
            for check in self.checks
        }

    def stuck(self, now: datetime, after_s: float) -> dict[str, float]:
        """The checks whose oldest unanswered item has waited past ``after_s``."""
        return {name: age for name, age in self.waiting_s(now).items() if age > after_s}


def _age_s(now: datetime, since: datetime | None) -> float | None:
    return round((now - as_utc(since)).total_seconds(), 1) if since else None
