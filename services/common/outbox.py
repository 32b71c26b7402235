"""Transactional outbox: events are written with the state change, and a relay publishes them.

A handler never publishes to Kafka itself. It adds events to its
:class:`UnitOfWork`; they become ``outbox`` rows in the same transaction as the
state they announce, so a crash can lose neither the change nor its event. The
:class:`OutboxRelay` publishes unsent rows in order and marks them sent; a
crash between publish and mark re-publishes, which the consumers' inbox makes
harmless.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol

from pydantic import BaseModel
from sqlalchemy import DateTime, Integer, String, Text, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from schemas.envelope import CloudEvent
from services.common.clock import Clock, new_id
from services.common.db import Database, RuntimeBase
from services.common.encrypted_columns import EncryptedText
from services.common.metrics import ServiceMetrics
from services.common.retry import Backoff
from services.common.telemetry import Telemetry
from services.common.topics import TOPIC_OF
from services.common.tracing import child_traceparent
from services.common.waits import wait_any

log = logging.getLogger(__name__)

# Kafka header on an event that reconciliation sent again (its value: how often).
RESEND_HEADER = "corespond_resend"


class OutboxPublishError(Exception):
    """Some events of a batch were not acknowledged; they stay unsent and are retried."""

    def __init__(self, failed: int, total: int, first: BaseException) -> None:
        super().__init__(f"{failed} of {total} outbox events not published: {first!r}")


class OutboxRecord(RuntimeBase):
    __tablename__ = "outbox"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(128), unique=True)
    event_type: Mapped[str] = mapped_column(String(128))
    # Kept beside the payload so the relay builds headers without re-parsing it.
    traceparent: Mapped[str | None] = mapped_column(String(64), default=None)
    topic: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(128))
    # The whole event, sealed: call.received carries the narrative and the address.
    payload: Mapped[str] = mapped_column(EncryptedText)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    published_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), index=True, default=None
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    # The event whose handling emitted this one (None for work started over HTTP or
    # by a timer): when that event arrives again, this answer is sent again
    # (``requeue_answers_to``), because the first one may never have arrived.
    cause_id: Mapped[str | None] = mapped_column(String(128), index=True, default=None)
    # How often reconciliation put this row back for sending (``requeue``).
    resends: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


def kafka_headers(row: OutboxRecord, traceparent: str | None = None) -> list[tuple[str, bytes]]:
    """Binary-mode CloudEvents attributes as headers, so routers need not parse the body.

    ``traceparent`` is the producer span when tracing is on (the consumer's span
    hangs under it); otherwise the event's own.
    """
    headers = [("ce_id", row.event_id.encode()), ("ce_type", row.event_type.encode())]
    if row.resends:
        # A re-send asks the consumer to answer again even if it saw the event
        # (``EventConsumer``); an ordinary redelivery does not.
        headers.append((RESEND_HEADER, str(row.resends).encode()))
    traceparent = traceparent or row.traceparent
    if traceparent:
        headers.append(("traceparent", traceparent.encode()))
    return headers


class UnitOfWork:
    """One transaction of one service, and the events it will announce.

    Use as ``async with uow:``; call :meth:`emit` for each event and
    :meth:`commit` at the end. Leaving the block without committing rolls back.
    """

    def __init__(
        self,
        db: Database,
        *,
        source: str,
        clock: Clock,
        correlation_id: str,
        traceparent: str | None = None,
        on_commit: Callable[[], None] | None = None,
        next_traceparent: Callable[[str | None], str] = child_traceparent,
    ) -> None:
        self._db = db
        self._writing: AbstractAsyncContextManager[AsyncSession] | None = None
        self.source = source
        self.clock = clock
        self.correlation_id = correlation_id
        self.traceparent = traceparent
        self._on_commit = on_commit
        # The emitted event's traceparent: a span of this trace (telemetry.next_traceparent).
        self._next_traceparent = next_traceparent
        self._emitted = 0
        self._after_commit: list[Callable[[], None]] = []
        # The event being handled, set by the consumer: what this work answers.
        self.cause_id: str | None = None
        self.session: AsyncSession

    async def __aenter__(self) -> "UnitOfWork":
        self._writing = self._db.writing()
        self.session = await self._writing.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._writing is not None
        await self._writing.__aexit__(exc_type, exc, tb)

    def emit(
        self, event_type: str, subject: str, data: BaseModel, *, answers: str | None = None
    ) -> CloudEvent:
        """Add an event to this transaction. ``answers``: the event id it answers, when
        not the one being handled (a later delivery report answers the original offer)."""
        event = CloudEvent(
            id=new_id(),
            source=self.source,
            type=event_type,
            time=self.clock.now(),
            subject=subject,
            correlationid=self.correlation_id,
            traceparent=self._next_traceparent(self.traceparent),
            data=data.model_dump(mode="json"),
        )
        self.session.add(
            OutboxRecord(
                event_id=event.id,
                event_type=event.type,
                traceparent=event.traceparent,
                topic=TOPIC_OF[event_type],
                key=subject,
                payload=event.model_dump_json(),
                created_at=event.time,
                attempts=0,
                cause_id=answers or self.cause_id,
                resends=0,
            )
        )
        self._emitted += 1
        return event

    async def requeue_answers_to(self, event_id: str) -> int:
        """``event_id`` came again: send again what handling it first emitted.

        The inbox keeps the effect exactly-once, so a redelivered event changes
        nothing; but its sender may be asking again precisely because our answer
        was lost (a broker that restarted empty, a lost partition). Re-sending
        the stored answers, same ids, lets the sender's inbox take them once.
        """
        requeued = await requeue(self.session, OutboxRecord.cause_id == event_id)
        self._emitted += requeued
        return requeued

    async def requeue_event(self, event_id: str, *, send: bool = True) -> int:
        """Put the published event ``event_id`` back for sending (``send=False``: only
        count one more re-send, see ``requeue``). 1 if it was found published."""
        requeued = await requeue(self.session, OutboxRecord.event_id == event_id, send=send)
        if send:
            self._emitted += requeued
        return requeued

    def on_committed(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once this transaction has committed (e.g. wake a worker)."""
        self._after_commit.append(callback)

    async def commit(self) -> None:
        await self.session.commit()
        if self._emitted and self._on_commit:
            self._on_commit()
        for callback in self._after_commit:
            callback()


class Producer(Protocol):
    """The slice of aiokafka's producer the relay needs."""

    async def send(
        self, topic: str, value: bytes, key: bytes, headers: list[tuple[str, bytes]]
    ) -> "asyncio.Future[Any]": ...


class OutboxRelay:
    """Publishes unsent outbox rows, oldest first, and marks them sent."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        batch_size: int,
        poll_interval_s: float,
        send_timeout_s: float,
        lock_rows: bool,
        metrics: ServiceMetrics | None = None,
        telemetry: Telemetry | None = None,
    ) -> None:
        self._db = db
        self._metrics = metrics or ServiceMetrics()
        self._clock = clock
        self._telemetry = telemetry or Telemetry()
        self._batch_size = batch_size
        self._poll_interval_s = poll_interval_s
        self._send_timeout_s = send_timeout_s
        # PostgreSQL replicas skip rows another replica is publishing.
        self._lock_rows = lock_rows
        self._wake = asyncio.Event()
        self.last_published_at: datetime | None = None
        self.last_error: str | None = None

    def wake(self) -> None:
        """Called after a commit that wrote events: publish now, not at the next poll."""
        self._wake.set()

    async def run(
        self,
        producer: Producer,
        stopping: asyncio.Event,
        repair: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """Publish until stopped. After a failure, ``repair`` (re-create missing
        topics) runs before the next try: a broker that came back empty must not
        leave events stuck forever."""
        backoff = Backoff(first_s=0.1, cap_s=5.0)
        while not stopping.is_set():
            # Cleared before the pass, so a commit during the pass is not missed.
            self._wake.clear()
            try:
                published = await self.publish_once(producer)
                backoff.reset()
                self.last_error = None
            except Exception as exc:  # broker down, DB busy: keep rows, try later
                self.last_error = repr(exc)
                log.warning("outbox.publish_failed", extra={"error": repr(exc)})
                await wait_any(stopping, timeout_s=backoff.next_delay())
                if repair is not None:
                    try:
                        await repair()
                    except Exception as repair_error:
                        log.warning("outbox.repair_failed", extra={"error": repr(repair_error)})
                continue
            if published < self._batch_size:
                await wait_any(self._wake, stopping, timeout_s=self._poll_interval_s)

    async def publish_once(self, producer: Producer) -> int:
        """Publish one batch; returns how many rows were marked sent.

        On PostgreSQL the rows stay locked (``SKIP LOCKED``) while they are
        sent, so replicas share the work. SQLite has one writer at a time, so
        there the rows are read and marked in two short transactions and the
        send happens in between, never holding the write lock while the broker
        is slow or down.
        """
        if self._lock_rows:
            async with self._db.writing() as session:
                rows = await self._unsent(session)
                if not rows:
                    return 0
                sent, error = await self._mark(session, rows, await self._send(producer, rows))
                await session.commit()
        else:
            async with self._db.session() as session:
                rows = await self._unsent(session)
            if not rows:
                return 0
            outcome = await self._send(producer, rows)
            async with self._db.writing() as session:
                sent, error = await self._mark(session, rows, outcome)
                await session.commit()
        # Raised only after the commit, so the rows that did go out stay marked.
        if error is not None:
            raise error
        return sent

    async def _unsent(self, session: AsyncSession) -> list[OutboxRecord]:
        query = (
            select(OutboxRecord)
            .where(OutboxRecord.published_at.is_(None))
            .order_by(OutboxRecord.seq)
            .limit(self._batch_size)
        )
        if self._lock_rows:
            query = query.with_for_update(skip_locked=True)
        return list((await session.scalars(query)).all())

    async def _send(
        self, producer: Producer, rows: list[OutboxRecord]
    ) -> list[BaseException | None]:
        """Send a batch; one entry per row, None where the broker acknowledged it."""
        # One PRODUCER span per event, under the span that emitted it, ended on its ack.
        spans = [
            self._telemetry.producer_span(
                row.topic, row.event_type, row.event_id, row.key, row.traceparent
            )
            for row in rows
        ]

        async def send_all() -> list[Any]:
            futures = [
                await producer.send(
                    row.topic,
                    value=row.payload.encode(),
                    key=row.key.encode(),
                    headers=kafka_headers(row, span.traceparent),
                )
                for row, span in zip(rows, spans, strict=True)
            ]
            return list(await asyncio.gather(*futures, return_exceptions=True))

        outcome: list[BaseException | None]
        try:
            results = await asyncio.wait_for(send_all(), self._send_timeout_s)
            outcome = [r if isinstance(r, BaseException) else None for r in results]
        except (TimeoutError, Exception) as exc:  # the whole batch failed to go out
            outcome = [exc] * len(rows)
        for span, error in zip(spans, outcome, strict=True):
            span.end(error)
        return outcome

    async def _mark(
        self,
        session: AsyncSession,
        rows: list[OutboxRecord],
        outcome: list[BaseException | None],
    ) -> tuple[int, OutboxPublishError | None]:
        now = self._clock.now()
        # What the broker acknowledged, whether or not the mark commits.
        for row, error in zip(rows, outcome, strict=True):
            count = self._metrics.produced if error is None else self._metrics.publish_failed
            count(row.event_type)
        sent = [row.seq for row, error in zip(rows, outcome, strict=True) if error is None]
        failed = [
            (row, error) for row, error in zip(rows, outcome, strict=True) if error is not None
        ]
        if sent:
            await session.execute(
                update(OutboxRecord).where(OutboxRecord.seq.in_(sent)).values(published_at=now)
            )
            self.last_published_at = now
        for row, error in failed:
            await session.execute(
                update(OutboxRecord)
                .where(OutboxRecord.seq == row.seq)
                .values(attempts=OutboxRecord.attempts + 1, last_error=repr(error)[:2000])
            )
        if failed:
            self.last_error = repr(failed[0][1])
            return len(sent), OutboxPublishError(len(failed), len(rows), failed[0][1])
        return len(sent), None

    async def backlog(self) -> tuple[int, datetime | None]:
        """How many events wait, and since when the oldest has waited."""
        async with self._db.session() as session:
            row = (
                await session.execute(
                    select(func.count(), func.min(OutboxRecord.created_at)).where(
                        OutboxRecord.published_at.is_(None)
                    )
                )
            ).one()
            return int(row[0]), row[1]


async def requeue(session: AsyncSession, *where: ColumnElement[bool], send: bool = True) -> int:
    """Mark published rows matching ``where`` unsent again; the relay re-publishes them
    (same event ids, so consumers' inboxes absorb any that did arrive). With
    ``send=False`` only the count of re-sends goes up (a reconciler giving up)."""
    values: dict[str, Any] = {"resends": OutboxRecord.resends + 1}
    if send:
        values["published_at"] = None
    result = await session.execute(
        update(OutboxRecord)
        .where(OutboxRecord.published_at.is_not(None), *where)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def delete_published_before(session: AsyncSession, cutoff: datetime) -> int:
    """Delete events published and older than ``cutoff``; returns how many.

    A published row has done its job (consumers dedupe on their own inbox), and
    its payload is a copy of personal data the retention purge removes.
    """
    result = await session.execute(
        delete(OutboxRecord).where(
            OutboxRecord.published_at.is_not(None), OutboxRecord.created_at < cutoff
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
