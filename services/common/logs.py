"""Structured JSON logs carrying the incident, correlation and trace ids of the work at hand.

Log an event name as the message and fields as ``extra``; ids set with
:func:`bind` (a context variable) are added to every line logged in that task.
No personal data at INFO: phone numbers are masked before they reach a log.
"""

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

_context: ContextVar[dict[str, str]] = ContextVar("corespond_log_context", default={})  # noqa: B039

_RESERVED = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}


@contextmanager
def bind(**fields: str | None) -> Iterator[None]:
    """Add ids (incident_id, correlation_id, trace_id...) to every log line in this block."""
    merged = {**_context.get(), **{k: v for k, v in fields.items() if v is not None}}
    token = _context.set(merged)
    try:
        yield
    finally:
        _context.reset(token)


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "event": record.getMessage(),
            **_context.get(),
        }
        for key, value in record.__dict__.items():
            if key not in _RESERVED and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure(service: str, level: str = "INFO", as_json: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if as_json:
        handler.setFormatter(JsonFormatter(service))
    else:
        handler.setFormatter(logging.Formatter(f"%(asctime)s {service} %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # aiokafka logs every reconnect attempt at ERROR while a broker is down; our
    # own loops log the outage once with context.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    # These log SQL with its parameters, or HTTP requests with their URLs, at DEBUG or
    # INFO: narratives, phone numbers, link tokens. Whatever our level, they stay quiet.
    for chatty in ("aiosqlite", "sqlalchemy.engine", "asyncpg", "twilio.http_client", "httpx"):
        logging.getLogger(chatty).setLevel(logging.WARNING)


def mask_phone(phone: str | None) -> str | None:
    """``+13035550100`` → ``+1303***0100``: enough to tell numbers apart, not to dial."""
    if not phone:
        return phone
    if len(phone) <= 8:
        return phone[:2] + "***"
    return phone[:5] + "***" + phone[-4:]
