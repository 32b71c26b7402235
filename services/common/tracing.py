"""W3C trace context, carried in every event so one incident can be followed across services.

These ids are hand-rolled so that the trace flows whether or not OpenTelemetry
is configured (services/common/telemetry.py). The *current* traceparent — the
span doing the work at hand: an HTTP request, an event being handled — is kept
in a context variable; a unit of work started without an explicit parent
continues it, so an event caused by a request carries the request's trace.
"""

import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
_current: ContextVar[str | None] = ContextVar("corespond_traceparent", default=None)


def new_traceparent() -> str:
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"


def child_traceparent(parent: str | None) -> str:
    """Same trace, new span: the next hop of a chain that started elsewhere."""
    if not parent:
        return new_traceparent()
    version, trace_id, _span, flags = parent.split("-")
    return f"{version}-{trace_id}-{secrets.token_hex(8)}-{flags}"


def trace_id_of(traceparent: str | None) -> str | None:
    return traceparent.split("-")[1] if traceparent else None


def valid_traceparent(value: str | None) -> str | None:
    """``value`` if it is a W3C traceparent we can continue, else None.

    For headers from outside (an HTTP client, a Kafka record): a malformed or
    all-zero one is ignored and a new trace begins, rather than failing the work.
    """
    if not value:
        return None
    match = _TRACEPARENT.match(value.strip().lower())
    if match is None or set(match[1]) == {"0"} or set(match[2]) == {"0"}:
        return None
    return match[0]


def current_traceparent() -> str | None:
    """The traceparent of the work at hand, if any (see :func:`within`)."""
    return _current.get()


@contextmanager
def within(traceparent: str | None) -> Iterator[None]:
    """Work in this block belongs to ``traceparent`` (events it emits continue its trace)."""
    token = _current.set(traceparent)
    try:
        yield
    finally:
        _current.reset(token)
