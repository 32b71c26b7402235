"""Delivery rules: which send failures are worth retrying, and when to try again."""

from dataclasses import dataclass
from datetime import timedelta

from services.common.retry import jittered, step

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
    """Exponential backoff, 1 s, 2 s, 4 s ... capped at a minute, jittered so that
    messages that failed together (a Twilio outage) are not all retried together."""
    return timedelta(seconds=jittered(step(1.0, attempt, 60.0)))


def should_retry(failure: SendFailure, attempt: int) -> bool:
    return not failure.permanent and attempt < MAX_SEND_ATTEMPTS
