"""``GET /metrics``: the service's Prometheus page, with the runtime's gauges computed at scrape.

Unauthenticated on the service's own port, like the probes: Prometheus
scrapes without a token, and the page carries no personal data (counts by
route template, event type, status; never an id, a phone or a narrative). It
is left out of the OpenAPI document: it is for Prometheus, not API clients.

The outbox gauges are one read of the outbox table (a plain read session: on
SQLite it never takes the write lock). Consumer lag is the broker's high
watermark minus the consumer's position, per assigned partition, from what
the consumer already knows (its last fetch), so a scrape costs the broker nothing.
"""

import asyncio
import contextlib
import time

from aiokafka.errors import IllegalStateError
from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST

from services.common.clock import as_utc
from services.common.runtime import ServiceRuntime

# A partition whose position is being reset must not hold up the whole page.
POSITION_TIMEOUT_S = 1.0


def metrics_router(runtime: ServiceRuntime) -> APIRouter:
    metrics = runtime.metrics

    async def outbox() -> None:
        unsent, oldest = await runtime.relay.backlog()
        metrics.outbox_unsent.set(unsent)
        age = (runtime.clock.now() - as_utc(oldest)).total_seconds() if oldest else 0.0
        metrics.outbox_oldest_age.set(max(age, 0.0))

    async def consumer() -> None:
        # Partitions move between replicas on a rebalance: only current ones are shown.
        metrics.consumer_lag.clear()
        events = runtime.consumer
        if events is None:
            return
        metrics.consumer_connected.set(1 if events.running else 0)
        if events.last_poll_monotonic is not None:
            metrics.consumer_poll_age.set(time.monotonic() - events.last_poll_monotonic)
        kafka = events.kafka_consumer
        if kafka is None:
            return
        for partition in kafka.assignment():
            highwater = kafka.highwater(partition)
            if highwater is None:  # nothing fetched from it yet
                continue
            with contextlib.suppress(IllegalStateError, TimeoutError):
                position = await asyncio.wait_for(kafka.position(partition), POSITION_TIMEOUT_S)
                metrics.consumer_lag.labels(partition.topic, str(partition.partition)).set(
                    max(highwater - position, 0)
                )

    metrics.refresh_at_scrape("outbox", outbox)
    metrics.refresh_at_scrape("consumer", consumer)

    router = APIRouter()

    @router.get("/metrics", include_in_schema=False)
    async def prometheus_metrics() -> Response:
        return Response(await metrics.render(), media_type=CONTENT_TYPE_LATEST)

    return router
