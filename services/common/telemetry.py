"""OpenTelemetry spans (HTTP, Kafka produce and consume, database), off unless configured.

Configured through :class:`~services.common.settings.ServiceSettings` from the
standard OpenTelemetry variables:

- ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``: the full OTLP/HTTP (protobuf) URL,
  e.g. ``http://collector:4318/v1/traces``; or ``OTEL_EXPORTER_OTLP_ENDPOINT``,
  the collector's base URL, to which ``/v1/traces`` is appended.
- ``OTEL_SERVICE_NAME``: the ``service.name`` resource (default
  ``corespond-<service>``).
- ``OTEL_SDK_DISABLED=true``: off even with an endpoint set.

The exporter and the SDK read the rest of the standard variables themselves
(``OTEL_EXPORTER_OTLP_HEADERS``, ``..._TIMEOUT``, ``..._COMPRESSION``,
``OTEL_TRACES_SAMPLER``, ``OTEL_BSP_*``, ``OTEL_RESOURCE_ATTRIBUTES``).

Off (no endpoint): the SDK is never imported, no provider exists, and every
helper hands back one shared span that records nothing (timeit: the server,
consumer and producer helpers plus ``next_traceparent`` together take about
2 µs, 0.8 µs of it the random span id events always had). The W3C ids still
flow, hand-rolled by :mod:`services.common.tracing`, so logs and events keep
their trace ids either way.

On: each service has its own ``TracerProvider`` (never the global one: the
tests run three services in one process) exporting through a
``BatchSpanProcessor``, flushed when the service stops. The span that does the
work is also the parent that the events it emits carry in ``traceparent``, so
the trace tree links across services (HTTP → produce → consume → produce...).

Span attributes carry ids, route templates, topics, event types and SQL
without parameters: never a phone number, a narrative, a name or a link token.
"""

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from schemas.envelope import CloudEvent
from services.common.settings import ServiceSettings
from services.common.tracing import child_traceparent, current_traceparent, new_traceparent
from services.common.tracing import trace_id_of as _trace_id_of

if TYPE_CHECKING:
    from services.common.otlp_tracing import OtlpTracing


class Span(Protocol):
    """What the services do with a span: read its id, note a failure, end it."""

    @property
    def traceparent(self) -> str | None:
        """This span as a W3C traceparent; None when nothing is recorded."""

    def set_attribute(self, key: str, value: str | int) -> None: ...

    def rename(self, name: str) -> None: ...

    def fail(self, error: BaseException | str) -> None:
        """Mark the span failed, by the error's type (or a code such as an HTTP status)
        only: exception messages can quote personal data."""

    def end(self, error: BaseException | None = None) -> None: ...


class _Unrecorded:
    """The span handed out when tracing is off: every method returns at once.

    It is its own context manager, so an off ``with telemetry.server_span(...)``
    costs two method calls and no allocation.
    """

    traceparent = None

    def __enter__(self) -> Span:
        return self

    def __exit__(self, *_exc: object) -> None:
        return None

    def set_attribute(self, key: str, value: str | int) -> None:
        pass

    def rename(self, name: str) -> None:
        pass

    def fail(self, error: BaseException | str) -> None:
        pass

    def end(self, error: BaseException | None = None) -> None:
        pass


UNRECORDED = _Unrecorded()


def traces_endpoint(settings: ServiceSettings) -> str | None:
    """The OTLP/HTTP traces URL the settings ask for, or None for tracing off."""
    if settings.otel_sdk_disabled:
        return None
    if settings.otel_exporter_otlp_traces_endpoint:
        return settings.otel_exporter_otlp_traces_endpoint
    if settings.otel_exporter_otlp_endpoint:
        return settings.otel_exporter_otlp_endpoint.rstrip("/") + "/v1/traces"
    return None


class Telemetry:
    """One service's tracing. ``Telemetry()`` is off; :meth:`from_settings` turns it on."""

    def __init__(self, tracing: "OtlpTracing | None" = None) -> None:
        self._tracing = tracing

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> "Telemetry":
        endpoint = traces_endpoint(settings)
        if endpoint is None:
            return cls()
        # Imported here, not at the top: a service without an endpoint never loads the SDK.
        from services.common.otlp_tracing import OtlpTracing

        name = settings.otel_service_name or f"corespond-{settings.service_name}"
        return cls(OtlpTracing(name, endpoint))

    @property
    def enabled(self) -> bool:
        return self._tracing is not None

    @property
    def provider(self) -> Any | None:
        """This service's ``TracerProvider``; None when tracing is off."""
        return self._tracing.provider if self._tracing else None

    def server_span(self, method: str, parent: str | None) -> AbstractContextManager[Span]:
        """The current span while an HTTP request is served (``parent``: its traceparent header)."""
        if self._tracing is None:
            return UNRECORDED
        return self._tracing.server_span(method, parent)

    def consumer_span(
        self, topic: str, group: str, event: CloudEvent, parent: str | None
    ) -> AbstractContextManager[Span]:
        """The current span while ``event`` is handled; ``parent`` is the producer's span."""
        if self._tracing is None:
            return UNRECORDED
        return self._tracing.consumer_span(topic, group, event, parent)

    def producer_span(
        self, topic: str, event_type: str, event_id: str, key: str, parent: str | None
    ) -> Span:
        """A started span for one record sent to Kafka; the caller ends it on the ack."""
        if self._tracing is None:
            return UNRECORDED
        return self._tracing.producer_span(topic, event_type, event_id, key, parent)

    def next_traceparent(self, parent: str | None) -> str:
        """The traceparent of an event emitted now, by work that continues ``parent``.

        Off: a new span id in ``parent``'s trace, as before tracing existed. On:
        the span doing the work (an HTTP request, a consumed event), so the
        producer and consumer spans downstream hang under a span that exists.
        Work under another trace (an SMS status callback for an incident's
        message) keeps the incident's ``parent``.
        """
        if self._tracing is None:
            return child_traceparent(parent)
        working = current_traceparent()
        if parent is None:
            return working or new_traceparent()
        if working and _trace_id_of(working) == _trace_id_of(parent):
            return working
        return parent

    def instrument(self, engine: AsyncEngine) -> None:
        """A CLIENT span per SQL statement run under a recorded span (nothing when off)."""
        if self._tracing is not None:
            self._tracing.instrument(engine.sync_engine)

    async def shutdown(self) -> None:
        """Export what is buffered and stop (when the service stops)."""
        if self._tracing is not None:
            await self._tracing.shutdown()
