"""Prometheus metrics of one service: its own registry, the metrics all three share, HTTP timing.

Each service holds one :class:`ServiceMetrics` (on its runtime), with its own
``CollectorRegistry``: the tests run all three services in one process, and the
global default registry would mix one service's counters into another's
``/metrics``. Counters are incremented where the thing happens (consumer,
outbox relay, HTTP middleware, a service's own app layer); gauges that are
facts about the database or the broker (backlog, lag, assignments by state)
are computed at scrape time by the refreshers registered here, so they are
never stale and cost nothing between scrapes.

Label values are bounded on purpose: routes by template, never the raw path
(ids and link tokens stay out), event types only from our own vocabulary.
No personal data is ever a label.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Match, Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from schemas.events import EVENT_DATA_MODELS
from services.common.topics import TOPIC_OF

log = logging.getLogger(__name__)

Refresher = Callable[[], Awaitable[None]]
# Well inside Prometheus' scrape timeout: a hung database costs its gauges, not the page.
REFRESH_TIMEOUT_S = 3.0

# What a consumer did with a record (the ``outcome`` label of events consumed).
HANDLED = "handled"
DUPLICATE = "duplicate"
RETRIED = "retried"
DEAD_LETTERED = "dead_lettered"
SKIPPED = "skipped"  # no handler for its type in this service

# Why a record was dead-lettered (the ``reason`` label): a class, never the message.
UNPARSEABLE = "unparseable"
INVALID_DATA = "invalid_data"
HANDLER_FAILED = "handler_failed"

UNMATCHED_ROUTE = "(unmatched)"
UNKNOWN_TYPE = "(unknown)"
_KNOWN_TYPES = frozenset(TOPIC_OF) | frozenset(EVENT_DATA_MODELS)


def event_type_label(event_type: str | None) -> str:
    """Our own event types as they are; anything else folded into one value."""
    return event_type if event_type in _KNOWN_TYPES else UNKNOWN_TYPE


class ServiceMetrics:
    """One service's registry and the metrics every service exposes."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.http_requests = Counter(
            "corespond_http_requests",
            "HTTP requests answered, by route template, method and status code",
            ["method", "route", "status"],
            registry=r,
        )
        self.http_duration = Histogram(
            "corespond_http_request_duration_seconds",
            "Time to answer an HTTP request (to the end of the body), by route template",
            ["method", "route", "status_class"],
            registry=r,
        )
        self.events_consumed = Counter(
            "corespond_events_consumed",
            "Records this service's consumer took from the bus, by event type and outcome",
            ["type", "outcome"],
            registry=r,
        )
        self.events_produced = Counter(
            "corespond_events_produced",
            "Outbox events the broker acknowledged, by event type",
            ["type"],
            registry=r,
        )
        self.events_publish_failed = Counter(
            "corespond_events_publish_failures",
            "Outbox events the broker did not acknowledge (they stay unsent and are retried)",
            ["type"],
            registry=r,
        )
        self.dead_letters = Counter(
            "corespond_dead_letters",
            "Records this service's consumer gave up on, by source topic and reason class",
            ["topic", "reason"],
            registry=r,
        )
        self.outbox_unsent = Gauge(
            "corespond_outbox_unsent_events",
            "Outbox events not yet published (read from the database at scrape time)",
            registry=r,
        )
        self.outbox_oldest_age = Gauge(
            "corespond_outbox_oldest_unsent_age_seconds",
            "How long the oldest unpublished outbox event has waited (0 when none waits)",
            registry=r,
        )
        self.consumer_lag = Gauge(
            "corespond_consumer_lag_messages",
            "Records on a partition not yet consumed: high watermark minus the consumer's position",
            ["topic", "partition"],
            registry=r,
        )
        self.consumer_poll_age = Gauge(
            "corespond_consumer_last_poll_age_seconds",
            "Seconds since the consumer loop last polled the broker (absent before its first poll)",
            registry=r,
        )
        self.consumer_connected = Gauge(
            "corespond_consumer_connected",
            "1 while the consumer is in its group and polling, 0 while it (re)connects",
            registry=r,
        )
        self.refresh_failures = Counter(
            "corespond_metrics_refresh_failures",
            "Scrape-time gauges that could not be computed (database or broker unavailable)",
            ["gauge"],
            registry=r,
        )
        self.reconcile_resent = Counter(
            "corespond_reconcile_resent",
            "Events re-published because their answer had not come back in time, by check",
            ["check"],
            registry=r,
        )
        self.reconcile_gave_up = Counter(
            "corespond_reconcile_gave_up",
            "Work still unanswered after every re-send (a supervisor was alerted), by check",
            ["check"],
            registry=r,
        )
        self.work_waiting_age = Gauge(
            "corespond_work_waiting_oldest_age_seconds",
            "Age of the oldest work still waiting for its answer, by check (0 when none waits)",
            ["check"],
            registry=r,
        )
        self.consumer_restarts = Counter(
            "corespond_consumer_restarts",
            "Times the consumer left its group after an error and joined again",
            registry=r,
        )
        self._refreshers: list[tuple[str, Refresher]] = []

    def consumed(self, event_type: str | None, outcome: str) -> None:
        self.events_consumed.labels(event_type_label(event_type), outcome).inc()

    def produced(self, event_type: str) -> None:
        self.events_produced.labels(event_type_label(event_type)).inc()

    def publish_failed(self, event_type: str) -> None:
        self.events_publish_failed.labels(event_type_label(event_type)).inc()

    def dead_lettered(self, topic: str, reason: str) -> None:
        self.dead_letters.labels(topic, reason).inc()

    def expect_dead_letters(self, topics: list[str]) -> None:
        """Show every (topic, reason) at 0 from the start: Prometheus' ``increase``
        cannot see the first increment of a series that appears already at 1."""
        for topic in topics:
            for reason in (UNPARSEABLE, INVALID_DATA, HANDLER_FAILED):
                self.dead_letters.labels(topic, reason)

    def refresh_at_scrape(self, name: str, refresher: Refresher) -> None:
        """Run ``refresher`` before each render (gauges that are facts about the DB or broker)."""
        self._refreshers.append((name, refresher))
        self.refresh_failures.labels(name)  # at 0 from the start, for ``increase``

    async def render(self) -> bytes:
        """The text exposition, after every refresher had its turn.

        A refresher that fails (database away) leaves its gauges as they were and
        is counted: the rest of the page must still reach Prometheus, since that
        is when the alerts matter most.
        """
        for name, refresher in self._refreshers:
            try:
                await asyncio.wait_for(refresher(), REFRESH_TIMEOUT_S)
            except Exception as exc:  # TimeoutError included
                self.refresh_failures.labels(name).inc()
                log.warning("metrics.refresh_failed", extra={"gauge": name, "error": repr(exc)})
        return generate_latest(self.registry)


# Where the innermost layer leaves the matched route's template for the outermost one.
_NOTED_ROUTE = "corespond.metrics.route"


def install_http_metrics(app: Starlette, metrics: ServiceMetrics) -> None:
    """Time every request (outermost layer) by the route it reached (noted innermost).

    The route is noted next to the router because the layers between copy the
    scope (the JSON-for-curl one does), so the router's note never comes back
    up; a mutable holder placed in the scope by the outer layer travels down
    through the copies. Call last, once the app's own middlewares are added.
    """
    app.user_middleware.append(Middleware(_RouteNoter))
    app.add_middleware(HttpMetricsMiddleware, metrics=metrics, router=app.router)


def route_template(router: Router, scope: Scope) -> str:
    """The template of a top-level route ``scope`` goes to (a mount such as ``/console``).

    For requests the router did not note (a static mount, a 404, a 405). A path
    matching no route is one label value, whatever was asked.
    """
    for route in router.routes:
        match, _ = route.matches(scope)
        path = getattr(route, "path", None)
        if match is Match.FULL and isinstance(path, str):
            return path
    return UNMATCHED_ROUTE


class _RouteNoter:
    """Innermost: after the router ran, hands its route's template to the holder."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        finally:
            holder = scope.get(_NOTED_ROUTE)
            path = getattr(scope.get("route"), "path", None)
            if isinstance(holder, dict) and isinstance(path, str):
                holder["template"] = path


class HttpMetricsMiddleware:
    """Counts and times every HTTP request by method, route template and status.

    Pure ASGI (like the guards), outermost, so refusals by the guards (413) and
    unhandled errors (500) are counted too. A streamed response is timed to its
    last byte.
    """

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics, router: Router) -> None:
        self.app = app
        self.metrics = metrics
        self.router = router

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        noted: dict[str, str] = {}

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            # In place, not a copy: the tracing layer outside reads the route the
            # router writes into this same scope.
            scope[_NOTED_ROUTE] = noted
            await self.app(scope, receive, send_noting_status)
        finally:
            route = noted.get("template") or route_template(self.router, scope)
            method = str(scope["method"])
            self.metrics.http_requests.labels(method, route, str(status)).inc()
            self.metrics.http_duration.labels(method, route, f"{status // 100}xx").observe(
                time.perf_counter() - started
            )
