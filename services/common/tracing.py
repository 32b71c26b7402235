"""W3C trace context, carried in every event so one incident can be followed across services."""

import secrets


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
