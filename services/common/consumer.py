"""The consuming side of the bus: parse, apply once, commit the offset, dead-letter what fails.

For each record: parse the CloudEvent (unparseable → dead letter at once, a
retry cannot fix it), look up the handler for its type (unknown types are
skipped: a newer producer must not break an older consumer), then apply it in
one transaction together with the inbox claim.

Records fetched together are applied in one transaction (a SQLite commit costs
more than most handlers), each with its own inbox claim. If any of them fails,
that transaction is rolled back and the records are applied one by one,
retrying with backoff up to ``consumer_max_attempts``; a record that still
fails is dead-lettered with its reason. Offsets are committed only after the
DB commit (or the dead-letter write), so a crash re-delivers and the inbox
absorbs it.
"""

import asyncio
import logging
import time
import traceback
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from schemas.envelope import CloudEvent
from schemas.events import EVENT_DATA_MODELS
from services.common import inbox
from services.common.bus import Bus, new_consumer
from services.common.logs import bind
from services.common.metrics import (
    DEAD_LETTERED,
    DUPLICATE,
    HANDLED,
    HANDLER_FAILED,
    INVALID_DATA,
    RETRIED,
    SKIPPED,
    UNPARSEABLE,
    ServiceMetrics,
)
from services.common.outbox import RESEND_HEADER, UnitOfWork
from services.common.retry import Backoff, jittered, step
from services.common.telemetry import Span, Telemetry
from services.common.topics import dead_letter_topic
from services.common.tracing import trace_id_of, valid_traceparent, within
from services.common.waits import unless_stopping, wait_any

log = logging.getLogger(__name__)

Handler = Callable[[UnitOfWork, CloudEvent, Any], Awaitable[None]]
UnitOfWorkFactory = Callable[[CloudEvent], UnitOfWork]


@dataclass(frozen=True)
class Subscription:
    """What one service consumes: its group, its topics, and a handler per event type."""

    group_id: str
    topics: list[str]
    handlers: dict[str, Handler]


class BrokerForgotOffsets(Exception):
    """The broker no longer has offsets this consumer committed (it lost its state,
    as the in-memory embedded broker does on restart, or an operator reset the
    group). Our in-memory positions are then meaningless: they could silently skip
    records of a re-created log. The consumer is rebuilt from the broker's view."""


class NotAssigned(Exception):
    """In a group, polling, and given no partition: the join did not really happen."""


# Longer than a rebalance takes on either broker (Tansu answers a join in half the
# session timeout).
UNASSIGNED_REJOIN_S = 8.0


class PoisonMessage(Exception):
    """A record that no retry can fix (unparseable, or a payload that breaks its schema)."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind  # the reason class counted in the dead-letter metric


class EventConsumer:
    def __init__(
        self,
        subscription: Subscription,
        bus: Bus,
        unit_of_work: UnitOfWorkFactory,
        *,
        max_attempts: int,
        retry_backoff_s: float,
        batch_size: int = 50,
        metrics: ServiceMetrics | None = None,
        telemetry: Telemetry | None = None,
    ) -> None:
        self.subscription = subscription
        self.metrics = metrics or ServiceMetrics()
        self.metrics.expect_dead_letters(subscription.topics)
        self.bus = bus
        self.unit_of_work = unit_of_work
        self.max_attempts = max_attempts
        self.retry_backoff_s = retry_backoff_s
        # Bounded so one batch does not hold SQLite's single writer for long.
        self.batch_size = batch_size
        self.dead_letter_topic = dead_letter_topic(subscription.group_id)
        self.telemetry = telemetry or Telemetry()
        self.last_poll_monotonic: float | None = None
        # What this consumer committed, to notice a broker that forgot it.
        self._committed: dict[TopicPartition, int] = {}
        # The live Kafka consumer, for readiness and for tests that must pause it.
        self.kafka_consumer: AIOKafkaConsumer | None = None
        self.running = False
        self.processed = 0
        self.duplicates = 0
        self.dead_lettered = 0
        self.broker_resets = 0
        self.restarts = 0
        # Restarts since the consumer last got through a poll (caught up or a batch
        # committed): a record that crashes it every time shows here, not as a stall.
        self.failing_restarts = 0
        # Records behind the high watermark per partition, as of the last fetch.
        self._lag: dict[TopicPartition, int] = {}
        # Rebuilds in a row that left this member without a partition (_check_assigned).
        self._unassigned_rebuilds = 0

    async def run(self, stopping: asyncio.Event) -> None:
        """Consume until stopped, re-joining the group after any broker trouble."""
        backoff = Backoff(first_s=0.2, cap_s=5.0)
        await wait_any(self.bus.ready, stopping)
        while not stopping.is_set():
            try:
                # A broker that came back empty has none of our topics; fetching
                # cannot create them (bus.py), so they are made here as LAYOUT says.
                await self.bus.ensure_topics()
            except Exception as exc:
                log.warning("consumer.ensure_topics_failed", extra={"error": repr(exc)})
            consumer = new_consumer(
                self.bus.settings, self.subscription.group_id, self.subscription.topics
            )
            try:
                # A group join can take seconds; shutting down must not wait for it.
                if not await unless_stopping(consumer.start(), stopping):
                    return
                self.running = True
                self.kafka_consumer = consumer
                self._committed.clear()
                log.info("consumer.started", extra={"group": self.subscription.group_id})
                await self._loop(consumer, stopping)
                backoff.reset()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.restarts += 1
                self.failing_restarts += 1
                self.metrics.consumer_restarts.inc()
                log.warning(
                    "consumer.restarting",
                    extra={"group": self.subscription.group_id, "error": repr(exc)},
                )
                await wait_any(stopping, timeout_s=backoff.next_delay())
            finally:
                self.running = False
                self.kafka_consumer = None
                await consumer.stop()

    async def _loop(self, consumer: AIOKafkaConsumer, stopping: asyncio.Event) -> None:
        unassigned_since: float | None = None
        while not stopping.is_set():
            batches = await consumer.getmany(timeout_ms=200, max_records=self.batch_size)
            self.last_poll_monotonic = time.monotonic()
            unassigned_since = self._check_assigned(consumer, unassigned_since)
            if not batches:
                self.failing_restarts = 0
                self._lag.clear()  # nothing fetched: caught up with what the broker had
                continue
            await self._check_broker_remembers(consumer, list(batches))
            await self.process_batch([r for records in batches.values() for r in records])
            offsets = {partition: records[-1].offset + 1 for partition, records in batches.items()}
            await consumer.commit(offsets)
            self._committed.update(offsets)
            self.failing_restarts = 0
            for partition, offset in offsets.items():
                highwater = consumer.highwater(partition)
                self._lag[partition] = max((highwater or offset) - offset, 0)

    def _check_assigned(self, consumer: AIOKafkaConsumer, since: float | None) -> float | None:
        """A member holding no partition at all, for longer than a rebalance takes, may
        not be in a real group: a group joined across a broker restart can end up
        there (seen with the embedded broker: the join answered by the old broker,
        the sync by the new one, and no error after). It rebuilds. A replica that is
        idle by design (more replicas than partitions) would rebuild too, and
        rebalance its group each time, so the wait doubles after every rebuild that
        did not bring a partition (8 s, 16 s, ... at most 5 minutes)."""
        if consumer.assignment():
            self._unassigned_rebuilds = 0
            return None
        now = time.monotonic()
        if since is None:
            return now
        wait_s = min(UNASSIGNED_REJOIN_S * 2**self._unassigned_rebuilds, 300.0)
        if now - since > wait_s:
            self._unassigned_rebuilds += 1
            log.warning("consumer.unassigned", extra={"group": self.subscription.group_id})
            raise NotAssigned(f"no partition assigned for {wait_s:.0f} s")
        return since

    async def _check_broker_remembers(
        self, consumer: AIOKafkaConsumer, partitions: list[TopicPartition]
    ) -> None:
        """Before applying records, make sure our positions still mean something.

        One offset fetch per partition we have committed to; cheap next to a
        database transaction, and the only way to tell a re-created log from a
        continuing one.
        """
        for partition in partitions:
            ours = self._committed.get(partition)
            if ours is None:
                continue
            theirs = await consumer.committed(partition)
            if theirs is None or theirs < ours:
                self.broker_resets += 1
                log.warning(
                    "consumer.broker_forgot_offsets",
                    extra={
                        "topic": partition.topic,
                        "partition": partition.partition,
                        "committed": ours,
                        "broker_has": theirs,
                    },
                )
                raise BrokerForgotOffsets(f"{partition}: committed {ours}, broker has {theirs}")

    async def process_batch(self, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        """Apply records in one transaction; on any failure, fall back to one at a time."""
        if len(records) == 1:
            await self.process(records[0])
            return
        work: list[tuple[ConsumerRecord[bytes, bytes], CloudEvent, BaseModel, Handler]] = []
        poison: list[tuple[ConsumerRecord[bytes, bytes], PoisonMessage]] = []
        skipped: list[str] = []
        for record in records:
            try:
                event, data = self._parse(record)
            except PoisonMessage as exc:
                poison.append((record, exc))
                continue
            if data is None:
                skipped.append(event.type)
            else:
                work.append((record, event, data, self.subscription.handlers[event.type]))
        try:
            applied, duplicates = await self._apply_together(work)
        except (OperationalError, InterfaceError, OSError):
            raise
        except Exception as exc:
            log.info("consumer.batch_fallback", extra={"records": len(records), "error": repr(exc)})
            for record in records:
                await self.process(record)
            return
        self.processed += applied
        self.duplicates += duplicates
        for event_type in skipped:  # counted only now: a fallback counts them itself
            self._skip(event_type)
        for record, problem in poison:
            await self._dead_letter(record, str(problem), problem.kind)

    async def _apply_together(
        self, work: list[tuple[ConsumerRecord[bytes, bytes], CloudEvent, BaseModel, Handler]]
    ) -> tuple[int, int]:
        if not work:
            return 0, 0
        applied = duplicates = 0
        async with self.unit_of_work(work[0][1]) as uow:
            for record, event, data, handler in work:
                uow.correlation_id, uow.traceparent = event.correlationid, event.traceparent
                uow.cause_id = event.id
                with self._event_context(record, event):
                    if await inbox.claim(uow.session, event, uow.clock.now()):
                        await handler(uow, event, data)
                        applied += 1
                        uow.on_committed(partial(self.metrics.consumed, event.type, HANDLED))
                    else:
                        duplicates += 1
                        await self._answer_again(uow, record, event)
                        uow.on_committed(partial(self.metrics.consumed, event.type, DUPLICATE))
            await uow.commit()
        return applied, duplicates

    async def process(self, record: ConsumerRecord[bytes, bytes]) -> None:
        """Apply one record, or dead-letter it. Raises only if the dead-letter write fails."""
        try:
            event, data = self._parse(record)
        except PoisonMessage as exc:
            await self._dead_letter(record, str(exc), exc.kind)
            return
        if data is None:
            self._skip(event.type)
            return
        handler = self.subscription.handlers[event.type]
        with self._event_context(record, event) as span:
            error: BaseException | None = None
            for attempt in range(1, self.max_attempts + 1):
                try:
                    if await self._apply(handler, record, event, data):
                        self.processed += 1
                        self.metrics.consumed(event.type, HANDLED)
                    else:
                        self.duplicates += 1
                        self.metrics.consumed(event.type, DUPLICATE)
                    return
                except (OperationalError, InterfaceError, OSError):
                    # The database (not the event) is the problem: dead-lettering
                    # would throw good events away. Leave the offset uncommitted
                    # and let run() re-join after a backoff; /healthz shows it.
                    raise
                except Exception as exc:
                    error = exc
                    log.warning(
                        "consumer.handler_failed",
                        extra={"attempt": attempt, "error": repr(exc)},
                    )
                    if attempt < self.max_attempts:
                        self.metrics.consumed(event.type, RETRIED)
                        await asyncio.sleep(jittered(step(self.retry_backoff_s, attempt, 5.0)))
            assert error is not None
            if contended(error):
                # Replicas competing for the same rows: the event is fine and will
                # apply once the others let go. Leave the offset uncommitted; run()
                # re-joins after a backoff and the record is read again.
                raise error
            reason = "".join(traceback.format_exception_only(error)).strip()
            span.fail(error)
            why = f"handler failed {self.max_attempts} times: {reason}"
            await self._dead_letter(record, why, HANDLER_FAILED, event.type)

    def _parse(self, record: ConsumerRecord[bytes, bytes]) -> tuple[CloudEvent, BaseModel | None]:
        """The event and its validated data; data is None for a type this consumer
        does not handle (it is skipped, whatever its payload)."""
        try:
            event = CloudEvent.model_validate_json(record.value or b"")
        except ValidationError as exc:
            raise PoisonMessage(f"not a valid CloudEvent: {_short(exc)}", UNPARSEABLE) from exc
        # Looked up before the payload is read: a type added by a newer producer,
        # or one meant for another service, must never stop this consumer.
        model = EVENT_DATA_MODELS.get(event.type)
        if event.type not in self.subscription.handlers or model is None:
            return event, None
        try:
            return event, model.model_validate(event.data)
        except ValidationError as exc:
            raise PoisonMessage(f"invalid {event.type} data: {_short(exc)}", INVALID_DATA) from exc

    def _skip(self, event_type: str) -> None:
        # Counted under one label for types nobody here knows (event_type_label),
        # so a hostile producer cannot grow the metrics without end.
        log.info("consumer.skipped_type", extra={"type": event_type[:128]})
        self.metrics.consumed(event_type, SKIPPED)

    async def _apply(
        self,
        handler: Handler,
        record: ConsumerRecord[bytes, bytes],
        event: CloudEvent,
        data: BaseModel,
    ) -> bool:
        """True if applied now, False if the inbox says it already was."""
        async with self.unit_of_work(event) as uow:
            uow.cause_id = event.id
            if not await inbox.claim(uow.session, event, uow.clock.now()):
                log.info("consumer.duplicate", extra={"event_id": event.id})
                if await self._answer_again(uow, record, event):
                    await uow.commit()
                return False
            await handler(uow, event, data)
            await uow.commit()
            return True

    async def _answer_again(
        self, uow: UnitOfWork, record: ConsumerRecord[bytes, bytes], event: CloudEvent
    ) -> int:
        """A duplicate that its sender re-sent on purpose (reconciliation found no
        answer): send our stored answers again. Plain redeliveries (a rebalance, a
        replay) do not, so re-reading a log does not echo it back."""
        if not any(key == RESEND_HEADER for key, _ in record.headers or ()):
            return 0
        requeued = await uow.requeue_answers_to(event.id)
        log.info(
            "consumer.answered_again",
            extra={"event_id": event.id, "event_type": event.type, "answers": requeued},
        )
        return requeued

    async def _dead_letter(
        self,
        record: ConsumerRecord[bytes, bytes],
        reason: str,
        kind: str,
        event_type: str | None = None,
    ) -> None:
        headers = [
            *[(k, v) for k, v in (record.headers or ()) if not k.startswith("dlq.")],
            ("dlq.reason", reason.encode()[:4000]),
            ("dlq.source.topic", record.topic.encode()),
            ("dlq.source.partition", str(record.partition).encode()),
            ("dlq.source.offset", str(record.offset).encode()),
            ("dlq.consumer.group", self.subscription.group_id.encode()),
            ("dlq.failed_at", datetime.now(UTC).isoformat().encode()),
        ]
        await self.bus.send_and_wait(
            self.dead_letter_topic, value=record.value or b"", key=record.key, headers=headers
        )
        self.dead_lettered += 1
        self.metrics.dead_lettered(record.topic, kind)
        if event_type is None:  # unparsed: the type the relay put in the headers, if any
            event_type = dict(record.headers or ()).get("ce_type", b"").decode(errors="replace")
        self.metrics.consumed(event_type, DEAD_LETTERED)
        log.error(
            "consumer.dead_lettered",
            extra={
                "topic": record.topic,
                "partition": record.partition,
                "offset": record.offset,
                "reason": reason[:500],
            },
        )

    @contextmanager
    def _event_context(
        self, record: ConsumerRecord[bytes, bytes], event: CloudEvent
    ) -> Iterator[Span]:
        """Handling ``event``: its CONSUMER span (under the producer's span, from the
        record's ``traceparent`` header), and every log line carrying its incident,
        correlation and trace ids."""
        parent = _header_traceparent(record) or event.traceparent
        group = self.subscription.group_id
        with self.telemetry.consumer_span(record.topic, group, event, parent) as span:
            working = span.traceparent or event.traceparent
            with (
                within(working),
                bind(
                    incident_id=event.subject,
                    correlation_id=event.correlationid,
                    trace_id=trace_id_of(working),
                    event_type=event.type,
                ),
            ):
                yield span

    @property
    def lag(self) -> int:
        """Records fetched-from partitions still hold beyond what was applied."""
        return sum(self._lag.values())

    def stalled(self, now_monotonic: float, after_s: float) -> bool:
        """Running but not polling for ``after_s``: a stuck handler or a wedged client."""
        if self.last_poll_monotonic is None:
            return False
        return now_monotonic - self.last_poll_monotonic > after_s


def _header_traceparent(record: ConsumerRecord[bytes, bytes]) -> str | None:
    for key, value in record.headers or ():
        if key == "traceparent":
            return valid_traceparent(value.decode("ascii", "replace"))
    return None


def _short(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err["loc"]) or "(root)"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


# PostgreSQL's answers to transactions that got in each other's way: deadlock
# detected, serialization failure, lock not available. Retrying is the remedy.
CONTENTION_SQLSTATES = frozenset({"40P01", "40001", "55P03"})


def contended(error: BaseException) -> bool:
    """True when ``error`` is the database refusing a transaction over lock contention."""
    return isinstance(error, DBAPIError) and (
        getattr(error.orig, "sqlstate", None) in CONTENTION_SQLSTATES
    )
