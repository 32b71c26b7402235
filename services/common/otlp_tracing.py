"""The OpenTelemetry SDK behind telemetry.py, imported only when an OTLP endpoint is set.

One ``TracerProvider`` per service (resource ``service.name``), a
``BatchSpanProcessor`` and the OTLP/HTTP protobuf exporter. Parents come from
W3C traceparent strings (a request header, a Kafka header) through the
standard propagator; database spans hang under whatever span is current.
"""

import asyncio
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from sqlalchemy import event
from sqlalchemy.engine import Engine

from schemas.envelope import CloudEvent

log = logging.getLogger(__name__)

_PROPAGATOR = TraceContextTextMapPropagator()
# How long a stopping service waits for its last spans to be exported.
_FLUSH_TIMEOUT_S = 3.0
# Long IN lists and bulk inserts make long statements; the shape is what matters.
_MAX_STATEMENT = 2000
_SPAN_ATTR = "_corespond_span"
_DB_SYSTEMS = {"postgresql": "postgresql", "sqlite": "sqlite"}


class RecordedSpan:
    """An SDK span behind the :class:`~services.common.telemetry.Span` protocol."""

    def __init__(self, span: trace.Span) -> None:
        self._span = span

    @property
    def traceparent(self) -> str:
        ctx = self._span.get_span_context()
        return f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{ctx.trace_flags:02x}"

    def set_attribute(self, key: str, value: str | int) -> None:
        self._span.set_attribute(key, value)

    def rename(self, name: str) -> None:
        self._span.update_name(name)

    def fail(self, error: BaseException | str) -> None:
        # The type only: exception messages (IntegrityError, ValidationError) can
        # quote SQL parameters or payload values.
        kind = error if isinstance(error, str) else type(error).__qualname__
        self._span.set_attribute("error.type", kind)
        self._span.set_status(Status(StatusCode.ERROR, kind))

    def end(self, error: BaseException | None = None) -> None:
        if error is not None:
            self.fail(error)
        self._span.end()


def _parent(traceparent: str | None) -> Context:
    """The context to start a span under: ``traceparent``'s, or an empty one (a new trace)
    rather than whatever happens to be current."""
    if not traceparent:
        return Context()
    return _PROPAGATOR.extract({"traceparent": traceparent}, context=Context())


class OtlpTracing:
    def __init__(self, service_name: str, endpoint: str) -> None:
        self.provider = TracerProvider(
            resource=Resource.create({"service.name": service_name}),
            # The runtime flushes it on stop; an atexit hook would also keep every
            # provider of every stack a test process started alive until exit.
            shutdown_on_exit=False,
        )
        self.provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
        self.tracer = self.provider.get_tracer("corespond")
        self._shut = False

    @contextmanager
    def _current(
        self, name: str, kind: SpanKind, parent: str | None, attributes: dict[str, Any]
    ) -> Iterator[RecordedSpan]:
        span = self.tracer.start_span(name, _parent(parent), kind, attributes)
        recorded = RecordedSpan(span)
        # Our own status handling: the SDK's would put the exception message in the span.
        with trace.use_span(
            span, end_on_exit=True, record_exception=False, set_status_on_exception=False
        ):
            try:
                yield recorded
            except Exception as exc:
                recorded.fail(exc)
                raise

    @contextmanager
    def server_span(self, method: str, parent: str | None) -> Iterator[RecordedSpan]:
        # Named by the method until the router has matched a route (see http_tracing).
        attributes: dict[str, Any] = {"http.request.method": method}
        with self._current(method, SpanKind.SERVER, parent, attributes) as span:
            yield span

    @contextmanager
    def consumer_span(
        self, topic: str, group: str, event: CloudEvent, parent: str | None
    ) -> Iterator[RecordedSpan]:
        attributes = {
            **_messaging(topic, "process", event.type, event.id, event.subject),
            "messaging.consumer.group.name": group,
        }
        with self._current(f"process {topic}", SpanKind.CONSUMER, parent, attributes) as span:
            yield span

    def producer_span(
        self, topic: str, event_type: str, event_id: str, key: str, parent: str | None
    ) -> RecordedSpan:
        attributes = _messaging(topic, "send", event_type, event_id, key)
        return RecordedSpan(
            self.tracer.start_span(f"send {topic}", _parent(parent), SpanKind.PRODUCER, attributes)
        )

    def instrument(self, engine: Engine) -> None:
        system = _DB_SYSTEMS.get(engine.dialect.name, engine.dialect.name)
        tracer = self.tracer

        @event.listens_for(engine, "before_cursor_execute")
        def _started(
            _conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool
        ) -> None:
            # Only inside a request or a handled event: the relay's and the
            # workers' idle polls would otherwise each start a trace of their own.
            if context is None or not trace.get_current_span().is_recording():
                return
            operation = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "SQL"
            setattr(
                context,
                _SPAN_ATTR,
                tracer.start_span(
                    operation,
                    kind=SpanKind.CLIENT,
                    attributes={
                        "db.system": system,
                        "db.operation.name": operation,
                        # The statement as prepared: placeholders, never the parameters.
                        "db.query.text": statement[:_MAX_STATEMENT],
                    },
                ),
            )

        @event.listens_for(engine, "after_cursor_execute")
        def _finished(
            _conn: Any, _cursor: Any, _statement: str, _params: Any, context: Any, _many: bool
        ) -> None:
            span = getattr(context, _SPAN_ATTR, None)
            if span is not None:
                delattr(context, _SPAN_ATTR)
                span.end()

        @event.listens_for(engine, "handle_error")
        def _failed(failure: Any) -> None:
            context = failure.execution_context
            span = getattr(context, _SPAN_ATTR, None)
            if span is not None:
                delattr(context, _SPAN_ATTR)
                RecordedSpan(span).end(failure.original_exception)

    async def shutdown(self, timeout_s: float = _FLUSH_TIMEOUT_S) -> None:
        """Flush and stop, waiting at most ``timeout_s``.

        The flush is a blocking HTTP export, so it runs in a thread; a daemon one,
        because a collector that is down makes the exporter retry for seconds,
        and that must hold up neither a service's stop (a rolling restart) nor
        the interpreter's exit.
        """
        if self._shut:
            return
        self._shut = True
        loop = asyncio.get_running_loop()
        flushed: asyncio.Future[None] = loop.create_future()

        def flush() -> None:
            try:
                self.provider.shutdown()
            finally:
                with suppress(RuntimeError):  # the loop closed first: nobody waits
                    loop.call_soon_threadsafe(_settle, flushed)

        threading.Thread(target=flush, name="otlp-flush", daemon=True).start()
        try:
            await asyncio.wait_for(asyncio.shield(flushed), timeout_s)
        except TimeoutError:
            log.warning("telemetry.flush_timed_out", extra={"timeout_s": timeout_s})


def _settle(future: "asyncio.Future[None]") -> None:
    if not future.done():
        future.set_result(None)


def _messaging(
    topic: str, operation: str, event_type: str, event_id: str, incident_id: str
) -> dict[str, Any]:
    return {
        "messaging.system": "kafka",
        "messaging.operation.type": operation,
        "messaging.destination.name": topic,
        "messaging.message.id": event_id,
        "cloudevents.event_type": event_type,
        # The Kafka key: an opaque incident id, so a trace can be found by incident.
        "messaging.kafka.message.key": incident_id,
        "corespond.incident_id": incident_id,
    }
