"""Injected time and identity: a clock and an id factory, so tests control both."""

import uuid
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def new_id() -> str:
    """A random, URL-safe, sortable-enough identifier (UUID4 hex)."""
    return uuid.uuid4().hex


def as_utc(value: datetime) -> datetime:
    """SQLite hands datetimes back naive; every one we store is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
