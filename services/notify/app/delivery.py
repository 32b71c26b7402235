"""The delivery worker: sends queued messages through the SMS backend and records the outcome.

Due messages are claimed in batches with a short lease (rows locked with
``SKIP LOCKED`` on PostgreSQL, the single writer on SQLite), so replicas never
send the same one at the same time and a crashed sender's messages are picked
up again when their lease ends. Outcomes are recorded, and announced, in one
transaction per batch. The backend gets the message id, so a
send repeated after a crash is recognised by the console backend; with Twilio
that window (sent, then crashed before recording it) is the one place a
duplicate SMS is possible, and it is as small as one commit.
"""

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from sqlalchemy import or_, select, update

from schemas.vocabulary import NotificationStatus
from services.common.clock import Clock
from services.common.logs import bind
from services.common.outbox import UnitOfWork
from services.common.tracing import trace_id_of
from services.common.waits import wait_any
from services.notify.adapters.metrics import FAILED, RETRYING, SENT
from services.notify.adapters.models import MessageRecord
from services.notify.adapters.sms import SmsBackend
from services.notify.app.status import announce
from services.notify.domain.delivery import SendFailure, retry_delay, should_retry

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=30)

UnitOfWorkFactory = Callable[[str | None, str | None], UnitOfWork]


class DeliveryWorker:
    def __init__(
        self,
        backend: SmsBackend,
        unit_of_work: UnitOfWorkFactory,
        clock: Clock,
        *,
        poll_interval_s: float = 0.5,
        batch_size: int = 50,
        attempted: Callable[[str], None] | None = None,
    ) -> None:
        self.backend = backend
        # Hears "sent", "retrying" or "failed" per attempt, once its outcome is committed.
        self.attempted = attempted
        self.unit_of_work = unit_of_work
        self.clock = clock
        self.poll_interval_s = poll_interval_s
        self.batch_size = batch_size
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            # Cleared before the pass, so a message queued during it is not missed.
            self._wake.clear()
            try:
                sent = await self.deliver_due()
            except Exception as exc:  # DB trouble: try again shortly
                log.warning("delivery.loop_failed", extra={"error": repr(exc)})
                sent = 0
            if sent < self.batch_size:
                await wait_any(self._wake, stopping, timeout_s=self.poll_interval_s)

    async def deliver_due(self) -> int:
        """Send every message that is due; returns how many were attempted."""
        claimed = await self._claim_due()
        if not claimed:
            return 0
        outcomes: list[tuple[_Claimed, str | None, SendFailure | None]] = []
        for message in claimed:
            with bind(
                incident_id=message.incident_id,
                correlation_id=message.correlation_id,
                trace_id=trace_id_of(message.traceparent),
            ):
                try:
                    sid = await self.backend.send(message.id, message.to_phone, message.body)
                    outcomes.append((message, sid, None))
                except SendFailure as failure:
                    outcomes.append((message, None, failure))
        await self._record(outcomes)
        return len(claimed)

    async def _claim_due(self) -> list["_Claimed"]:
        """Lease a batch of due messages in one transaction (replicas skip leased ones)."""
        now = self.clock.now()
        lease_open = or_(MessageRecord.claimed_until.is_(None), MessageRecord.claimed_until < now)
        async with self.unit_of_work(None, None) as uow:
            rows = (
                await uow.session.execute(
                    select(
                        MessageRecord.id,
                        MessageRecord.incident_id,
                        MessageRecord.to_phone,
                        MessageRecord.body,
                        MessageRecord.correlation_id,
                        MessageRecord.traceparent,
                    )
                    .where(
                        MessageRecord.status == NotificationStatus.QUEUED.value,
                        MessageRecord.next_attempt_at <= now,
                        lease_open,
                    )
                    .order_by(MessageRecord.created_at)
                    .limit(self.batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return []
            await uow.session.execute(
                update(MessageRecord)
                .where(MessageRecord.id.in_([r.id for r in rows]), lease_open)
                .values(claimed_until=now + LEASE)
                .execution_options(synchronize_session=False)
            )
            await uow.commit()
        return [_Claimed(*row) for row in rows]

    async def _record(
        self, outcomes: list[tuple["_Claimed", str | None, SendFailure | None]]
    ) -> None:
        """Write every outcome of a batch, and announce it, in one transaction."""
        async with self.unit_of_work(None, None) as uow:
            for claimed, sid, failure in outcomes:
                record = await uow.session.get(MessageRecord, claimed.id)
                assert record is not None
                uow.correlation_id, uow.traceparent = claimed.correlation_id, claimed.traceparent
                record.attempts += 1
                record.claimed_until = None
                if failure is None:
                    record.provider_message_id = sid
                    announce(uow, record, NotificationStatus.SENT)
                    self._count(uow, SENT)
                    continue
                record.error_code, record.error_message = failure.code, failure.message
                if should_retry(failure, record.attempts):
                    self._count(uow, RETRYING)
                    record.next_attempt_at = uow.clock.now() + retry_delay(record.attempts)
                    log.warning(
                        "delivery.retrying",
                        extra={
                            "incident_id": claimed.incident_id,
                            "error": str(failure),
                            "attempt": record.attempts,
                        },
                    )
                else:
                    self._count(uow, FAILED)
                    announce(uow, record, NotificationStatus.FAILED)
                    log.warning(
                        "delivery.failed",
                        extra={"incident_id": claimed.incident_id, "error": str(failure)},
                    )
            await uow.commit()

    def _count(self, uow: UnitOfWork, outcome: str) -> None:
        if self.attempted is not None:
            uow.on_committed(partial(self.attempted, outcome))


@dataclass(frozen=True)
class _Claimed:
    id: str
    incident_id: str
    to_phone: str
    body: str
    correlation_id: str
    traceparent: str | None
