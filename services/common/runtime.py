"""One service process's parts (database, bus, outbox relay, consumer, workers) and their lifecycle.

The HTTP side never waits for the broker: the service starts, serves and
stores work (into the outbox) while Kafka is unreachable, and the background
tasks catch up once it answers. That is what makes a ``202`` safe to give.
"""

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import MetaData

from schemas.envelope import CloudEvent
from services.common import logs, migrations, revocations
from services.common.bus import Bus
from services.common.clock import Clock, SystemClock, new_id
from services.common.consumer import EventConsumer, Subscription
from services.common.db import Database, RuntimeBase
from services.common.key_rotation import check_keys_open_stored_values
from services.common.metrics import ServiceMetrics
from services.common.outbox import OutboxRelay, UnitOfWork
from services.common.reconcile import Check, GaveUp, Reconciler
from services.common.settings import ServiceSettings
from services.common.telemetry import Telemetry
from services.common.topics import ALL, IDENTITY, dead_letter_topic
from services.common.tracing import current_traceparent

log = logging.getLogger(__name__)

Worker = Callable[[asyncio.Event], Awaitable[None]]


@dataclass
class HealthReport:
    ok: bool
    checks: dict[str, Any] = field(default_factory=dict)


class ServiceRuntime:
    def __init__(
        self,
        settings: ServiceSettings,
        metadatas: Iterable[MetaData],
        subscription: Subscription | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.metadatas = [RuntimeBase.metadata, *metadatas]
        # Refuses (MissingDataKeys) when CORESPOND_DATA_KEYS is not set.
        self.db = Database.from_settings(settings)
        # Off (no provider, no SDK loaded) unless an OTLP endpoint is configured.
        self.telemetry = Telemetry.from_settings(settings)
        self.telemetry.instrument(self.db.engine)
        self.bus = Bus(settings)
        # Per service, never the global registry: tests run three services in one process.
        self.metrics = ServiceMetrics()
        self.relay = OutboxRelay(
            self.db,
            self.clock,
            batch_size=settings.outbox_batch_size,
            poll_interval_s=settings.outbox_poll_interval_s,
            send_timeout_s=settings.kafka_send_timeout_s,
            lock_rows=not self.db.is_sqlite,
            metrics=self.metrics,
            telemetry=self.telemetry,
        )
        self.subscription: Subscription | None = None
        self.consumer: EventConsumer | None = None
        if subscription:
            self.subscribe(subscription)
        self.reconciler: Reconciler | None = None
        self.workers: list[tuple[str, Worker]] = []
        self.startup_steps: list[Callable[[], Awaitable[None]]] = []
        self.stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def subscribe(self, subscription: Subscription) -> None:
        """Consume ``subscription`` (once, before start). Separate from the constructor
        so handlers can be built from parts that need the runtime (its database)."""
        assert self.consumer is None, "one subscription per service"
        # Every service keeps the revocation list, so every subscription hears of them.
        subscription = Subscription(
            group_id=subscription.group_id,
            topics=[*subscription.topics, IDENTITY],
            handlers={**subscription.handlers, **revocations.HANDLERS},
        )
        self.subscription = subscription
        self.consumer = EventConsumer(
            subscription,
            self.bus,
            self.unit_of_work_for,
            max_attempts=self.settings.consumer_max_attempts,
            retry_backoff_s=self.settings.consumer_retry_backoff_s,
            metrics=self.metrics,
            telemetry=self.telemetry,
        )

    def add_worker(self, name: str, worker: Worker) -> None:
        self.workers.append((name, worker))

    def reconcile(self, checks: Sequence[Check], on_gave_up: GaveUp | None = None) -> Reconciler:
        """Ask again for answers that did not come (``checks``), in the background."""
        self.reconciler = Reconciler(
            checks,
            self.unit_of_work,
            self.clock,
            self.metrics,
            interval_s=self.settings.reconcile_interval_s,
            max_resends=self.settings.reconcile_max_resends,
            on_gave_up=on_gave_up,
        )
        self.add_worker("reconcile", self.reconciler.run)
        reconciler = self.reconciler

        async def waiting_ages() -> None:
            for name, age in reconciler.waiting_s(self.clock.now()).items():
                self.metrics.work_waiting_age.labels(name).set(age)

        self.metrics.refresh_at_scrape("reconcile", waiting_ages)
        return reconciler

    def add_startup_step(self, step: Callable[[], Awaitable[None]]) -> None:
        """Run after the schema is at head and before the background tasks (e.g. seeding)."""
        self.startup_steps.append(step)

    def unit_of_work(
        self, correlation_id: str | None = None, traceparent: str | None = None
    ) -> UnitOfWork:
        return UnitOfWork(
            self.db,
            source=f"corespond/{self.settings.service_name}",
            clock=self.clock,
            correlation_id=correlation_id or new_id(),
            # Without one, the work at hand (the HTTP request) is the parent.
            traceparent=traceparent or current_traceparent(),
            on_commit=self.relay.wake,
            next_traceparent=self.telemetry.next_traceparent,
        )

    def unit_of_work_for(self, event: CloudEvent) -> UnitOfWork:
        """The transaction that handles ``event``: same correlation, next span of its trace."""
        return self.unit_of_work(event.correlationid, event.traceparent)

    async def start(self) -> None:
        # Upgrades the schema (auto) or raises SchemaNotCurrent (check), before any use.
        await migrations.Migrations.of(self.settings.service_name).prepare(
            self.db, migrations.migrate_mode(self.settings)
        )
        # Keys that cannot read what is stored stop the start, before any write.
        await check_keys_open_stored_values(self.db, self.metadatas)
        for step in self.startup_steps:
            await step()
        topics = list(ALL)
        if self.subscription:
            topics.append(dead_letter_topic(self.subscription.group_id))
        self._spawn("bus", self.bus.connect(topics, self.stopping))
        self._spawn("relay", self._run_relay())
        if self.consumer:
            self._spawn("consumer", self.consumer.run(self.stopping))
        for name, worker in self.workers:
            self._spawn(name, worker(self.stopping))
        log.info("service.started", extra={"database": self.db.url.render_as_string()})

    async def _run_relay(self) -> None:
        await self.bus.ready.wait()
        assert self.bus.producer is not None
        await self.relay.run(self.bus.producer, self.stopping, repair=self.bus.ensure_topics)

    def _spawn(self, name: str, coro: Awaitable[None]) -> None:
        async def guarded() -> None:
            try:
                await coro
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("service.task_crashed", extra={"task": name})
                raise

        self._tasks.append(
            asyncio.create_task(guarded(), name=f"{self.settings.service_name}:{name}")
        )

    async def stop(self, grace_s: float = 5.0) -> None:
        self.stopping.set()
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=grace_s)
            for task in pending:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        await self.bus.close()
        await self.db.dispose()
        # Last, so the spans of the final work (and of the shutdown) are exported.
        await self.telemetry.shutdown()
        log.info("service.stopped")

    @asynccontextmanager
    async def lifespan(self, _app: Any) -> AsyncIterator[None]:
        logs.configure(self.settings.service_name, self.settings.log_level, self.settings.log_json)
        try:
            await self.start()
        except BaseException:
            # A refused start (keys that cannot read the data, a schema behind head)
            # still closes the database.
            await self.stop()
            raise
        try:
            yield
        finally:
            await self.stop()

    def liveness(self) -> HealthReport:
        """Fails when a background task died or the consumer stopped polling."""
        crashed = [
            t.get_name() for t in self._tasks if t.done() and not t.cancelled() and t.exception()
        ]
        checks: dict[str, Any] = {"tasks_crashed": crashed}
        ok = not crashed
        if self.consumer:
            consumer = self.consumer
            stalled = consumer.stalled(time.monotonic(), self.settings.consumer_stall_after_s)
            looping = consumer.failing_restarts >= self.settings.consumer_restart_limit
            lagging = consumer.lag > self.settings.consumer_max_lag
            if stalled:
                checks["consumer"] = "stalled"
            elif looping:
                checks["consumer"] = f"restarting ({consumer.failing_restarts} in a row)"
            elif lagging:
                checks["consumer"] = f"lagging ({consumer.lag} records behind)"
            else:
                checks["consumer"] = "running" if consumer.running else "connecting"
            checks["consumer_lag"] = consumer.lag
            ok = ok and not (stalled or looping or lagging)
        if self.reconciler:
            # Work without its answer past the deadline: re-sending has not helped.
            stuck = self.reconciler.stuck(self.clock.now(), self.settings.work_stuck_after_s)
            checks["stuck_work_s"] = stuck
            ok = ok and not stuck
        return HealthReport(ok=ok, checks=checks)

    async def readiness(self) -> HealthReport:
        """Ready when the database answers. The broker is reported, not required:
        calls are still accepted (into the outbox) while it is away."""
        checks: dict[str, Any] = {}
        try:
            await self.db.ping()
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"error: {type(exc).__name__}"
        checks["broker"] = "connected" if self.bus.ready.is_set() else "connecting"
        if self.consumer:
            checks["consumer"] = "running" if self.consumer.running else "connecting"
        backlog, oldest = await self.relay.backlog() if checks["database"] == "ok" else (None, None)
        checks["outbox_backlog"] = backlog
        checks["outbox_oldest"] = oldest.isoformat() if oldest else None
        return HealthReport(ok=checks["database"] == "ok", checks=checks)
