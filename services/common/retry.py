"""One backoff for every retry loop: exponential, capped, with jitter.

Replicas that lose the broker or the database at the same moment would, with a
plain doubling delay, all come back at the same moment too and hit it together
again. Each delay is drawn from the upper half of its step ("equal jitter"):
never shorter than half the step, so a loop still slows down as it should, and
spread enough that a herd of replicas thins out.
"""

import random


def jittered(step_s: float) -> float:
    """A delay between half of ``step_s`` and all of it."""
    return random.uniform(step_s / 2, step_s)


def step(first_s: float, attempt: int, cap_s: float) -> float:
    """The delay before retry ``attempt`` (1-based), unjittered: doubling from ``first_s``."""
    return min(first_s * 2.0 ** max(attempt - 1, 0), cap_s)


class Backoff:
    """Delays for a loop that retries until it succeeds; ``reset`` after a success."""

    def __init__(self, first_s: float = 0.2, cap_s: float = 5.0) -> None:
        self.first_s = first_s
        self.cap_s = cap_s
        self.failures = 0

    def next_delay(self) -> float:
        self.failures += 1
        return jittered(step(self.first_s, self.failures, self.cap_s))

    def reset(self) -> None:
        self.failures = 0
