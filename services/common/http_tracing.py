"""Each HTTP request's trace: a SERVER span named by its route, and its ids on every log line.

An incoming W3C ``traceparent`` header is continued (a CAD system that traces
its calls sees ours in the same trace); otherwise the request starts a trace.
Either way the request's traceparent is the parent of the events it emits and
its trace id is on its log lines, with the incident id when the route names one.

The span is named ``METHOD /route/{template}`` and never carries the raw path
or query: those hold link tokens and ids a trace backend need not index.
"""

import re

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.common.logs import bind
from services.common.telemetry import Telemetry
from services.common.tracing import child_traceparent, trace_id_of, valid_traceparent, within

# The routes that name an incident (dispatch's ``/v1/incidents/{incident_id}/...``):
# their log lines carry its id from the first one on.
_INCIDENT_PATH = re.compile(r"^/v1/incidents/([0-9a-f]{32})(?:/|$)")


class RequestTracing:
    """ASGI middleware; outermost, so the span covers the guards and the access audit."""

    def __init__(self, app: ASGIApp, telemetry: Telemetry) -> None:
        self.app = app
        self.telemetry = telemetry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method: str = scope["method"]
        incoming = valid_traceparent(Headers(scope=scope).get("traceparent"))
        with self.telemetry.server_span(method, incoming) as span:
            # Off, the request still gets ids of its own (hand-rolled, same format).
            traceparent = span.traceparent or child_traceparent(incoming)

            async def send_noting_status(message: Message) -> None:
                if message["type"] == "http.response.start":
                    status = int(message["status"])
                    span.set_attribute("http.response.status_code", status)
                    if status >= 500:
                        span.fail(str(status))
                await send(message)

            named = _INCIDENT_PATH.match(scope["path"])
            with (
                within(traceparent),
                bind(trace_id=trace_id_of(traceparent), incident_id=named and named[1]),
            ):
                try:
                    await self.app(scope, receive, send_noting_status)
                except Exception:
                    # Starlette's outermost handler turns it into a 500 after we are gone.
                    span.set_attribute("http.response.status_code", 500)
                    raise
                finally:
                    # Known once the router has matched; it writes the route into the scope.
                    route = route_template(scope)
                    if route:
                        span.set_attribute("http.route", route)
                        span.rename(f"{method} {route}")


def route_template(scope: Scope) -> str | None:
    """``/v1/incidents/{incident_id}`` for the route that served ``scope``, if one did."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    return template if isinstance(template, str) else None
