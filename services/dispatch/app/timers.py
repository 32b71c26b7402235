"""The timer worker: fires stored deadlines (offer and handoff expiry, follow-ups) when due.

Timers are rows, so a restart loses none: whatever fell due while dispatch was
down fires when it comes back. Each timer is claimed with a conditional update
(``fired_at IS NULL``) in the same transaction as its consequences, so with
several replicas exactly one fires it, and a crash before the commit leaves it
to fire again.
"""

import asyncio
import logging
from collections.abc import Callable

from sqlalchemy import select, update

from schemas.policy import Policy
from schemas.vocabulary import AssignmentStatus
from services.common.clock import Clock
from services.common.outbox import UnitOfWork
from services.common.waits import wait_any
from services.dispatch.adapters.models import AssignmentRecord, IncidentRecord, TimerRecord
from services.dispatch.app.assignments import transition
from services.dispatch.app.follow_up import FOLLOW_UP, open_follow_up
from services.dispatch.app.handoffs import HANDOFF_EXPIRY, lapsed
from services.dispatch.app.offers import OFFER_EXPIRY
from services.dispatch.domain.eta import EtaEstimator

log = logging.getLogger(__name__)

UnitOfWorkFactory = Callable[[str | None, str | None], UnitOfWork]


class TimerWorker:
    def __init__(
        self,
        unit_of_work: UnitOfWorkFactory,
        clock: Clock,
        policy_for: Callable[[str], Policy],
        eta: EtaEstimator,
        *,
        poll_interval_s: float = 1.0,
        batch_size: int = 50,
    ) -> None:
        self.unit_of_work = unit_of_work
        self.clock = clock
        self.policy_for = policy_for
        self.eta = eta
        self.poll_interval_s = poll_interval_s
        self.batch_size = batch_size

    async def run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            try:
                fired = await self.fire_due()
            except Exception as exc:  # DB trouble: try again at the next tick
                log.warning("timers.loop_failed", extra={"error": repr(exc)})
                fired = 0
            if fired < self.batch_size:
                await wait_any(stopping, timeout_s=self.poll_interval_s)

    async def fire_due(self) -> int:
        """Fire every timer due now; returns how many fired."""
        async with self.unit_of_work(None, None) as uow:
            due = (
                await uow.session.scalars(
                    select(TimerRecord.id)
                    .where(TimerRecord.fired_at.is_(None), TimerRecord.due_at <= self.clock.now())
                    .order_by(TimerRecord.due_at)
                    .limit(self.batch_size)
                )
            ).all()
        fired = 0
        for timer_id in due:
            if await self._fire(timer_id):
                fired += 1
        return fired

    async def _fire(self, timer_id: str) -> bool:
        async with self.unit_of_work(None, None) as uow:
            claimed = await uow.session.execute(
                update(TimerRecord)
                .where(TimerRecord.id == timer_id, TimerRecord.fired_at.is_(None))
                .values(fired_at=uow.clock.now())
                .execution_options(synchronize_session=False)
            )
            if getattr(claimed, "rowcount", 0) != 1:
                return False  # another replica fired it
            timer = await uow.session.get(TimerRecord, timer_id)
            assert timer is not None
            if timer.kind == OFFER_EXPIRY and timer.assignment_id:
                assignment = await uow.session.get(AssignmentRecord, timer.assignment_id)
                if assignment is not None and assignment.status == AssignmentStatus.OFFERED.value:
                    await transition(
                        uow,
                        assignment.id,
                        AssignmentStatus.EXPIRED,
                        actor="dispatch",
                        policy_for=self.policy_for,
                        eta=self.eta,
                        reason="no answer in time",
                    )
            elif timer.kind == HANDOFF_EXPIRY and timer.handoff_id:
                await lapsed(uow, timer.handoff_id, self.policy_for)
            elif timer.kind == FOLLOW_UP:
                original = await uow.session.get(IncidentRecord, timer.incident_id)
                if original is not None:
                    await open_follow_up(uow, timer, self.policy_for(original.jurisdiction))
            await uow.commit()
        return True
