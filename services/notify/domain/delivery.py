"""Delivery rules: which send failures are worth retrying, and when to try again."""

from dataclasses import dataclass
from datetime import timedelta

MAX_SEND_ATTEMPTS = 6


@dataclass(frozen=True)
class SendFailure(Exception):
    """A send that did not go through. ``permanent`` means retrying cannot help
    (opted out, invalid or unreachable number)."""

    code: str
    message: str
    permanent: bool

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


def retry_delay(attempt: int) -> timedelta:
    """Exponential backoff: 1 s, 2 s, 4 s ... capped at a minute."""
    return timedelta(seconds=min(2 ** (attempt - 1), 60))


def should_retry(failure: SendFailure, attempt: int) -> bool:
    return not failure.permanent and attempt < MAX_SEND_ATTEMPTS
