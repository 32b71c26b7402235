"""The delivery worker: sends queued messages through the SMS backend and records the outcome.

A message is claimed with a short lease (a conditional update), so replicas
never send the same one at the same time and a crashed sender's message is
picked up again when its lease ends. The backend gets the message id, so a
send repeated after a crash is recognised by the console backend; with Twilio
that window (sent, then crashed before recording it) is the one place a
duplicate SMS is possible, and it is as small as one commit.
"""

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import or_, select, update

from schemas.vocabulary import NotificationStatus
from services.common.clock import Clock
from services.common.logs import bind
from services.common.outbox import UnitOfWork
from services.common.tracing import trace_id_of
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
    ) -> None:
        self.backend = backend
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
                try:
                    await asyncio.wait_for(self._wake.wait(), self.poll_interval_s)
                except TimeoutError:
                    pass

    async def deliver_due(self) -> int:
        """Send every message that is due; returns how many were attempted."""
        due = await self._due_ids()
        for message_id in due:
            if await self._claim(message_id):
                await self._deliver(message_id)
        return len(due)

    async def _due_ids(self) -> list[str]:
        now = self.clock.now()
        async with self.unit_of_work(None, None) as uow:
            rows = await uow.session.scalars(
                select(MessageRecord.id)
                .where(
                    MessageRecord.status == NotificationStatus.QUEUED.value,
                    MessageRecord.next_attempt_at <= now,
                    or_(MessageRecord.claimed_until.is_(None), MessageRecord.claimed_until < now),
                )
                .order_by(MessageRecord.created_at)
                .limit(self.batch_size)
            )
            return list(rows.all())

    async def _claim(self, message_id: str) -> bool:
        now = self.clock.now()
        async with self.unit_of_work(None, None) as uow:
            result = await uow.session.execute(
                update(MessageRecord)
                .where(
                    MessageRecord.id == message_id,
                    MessageRecord.status == NotificationStatus.QUEUED.value,
                    or_(MessageRecord.claimed_until.is_(None), MessageRecord.claimed_until < now),
                )
                .values(claimed_until=now + LEASE)
                .execution_options(synchronize_session=False)
            )
            await uow.commit()
            return bool(getattr(result, "rowcount", 0) == 1)

    async def _deliver(self, message_id: str) -> None:
        async with self.unit_of_work(None, None) as probe:
            message = await probe.session.get(MessageRecord, message_id)
            assert message is not None
            correlation, traceparent = message.correlation_id, message.traceparent
            to, body, incident_id = message.to_phone, message.body, message.incident_id
        with bind(
            incident_id=incident_id, correlation_id=correlation, trace_id=trace_id_of(traceparent)
        ):
            failure: SendFailure | None = None
            sid: str | None = None
            try:
                sid = await self.backend.send(message_id, to, body)
            except SendFailure as exc:
                failure = exc
            async with self.unit_of_work(correlation, traceparent) as uow:
                record = await uow.session.get(MessageRecord, message_id)
                assert record is not None
                record.attempts += 1
                record.claimed_until = None
                if failure is None:
                    record.provider_message_id = sid
                    announce(uow, record, NotificationStatus.SENT)
                elif should_retry(failure, record.attempts):
                    record.error_code, record.error_message = failure.code, failure.message
                    record.next_attempt_at = uow.clock.now() + retry_delay(record.attempts)
                    log.warning(
                        "delivery.retrying",
                        extra={"error": str(failure), "attempt": record.attempts},
                    )
                else:
                    record.error_code, record.error_message = failure.code, failure.message
                    announce(uow, record, NotificationStatus.FAILED)
                    log.warning("delivery.failed", extra={"error": str(failure)})
                await uow.commit()
