"""Sign-in attempts per source and per account in a sliding window (per process), bounded.

The account lockout stops guessing one account's password; this stops a
source spraying many accounts, and keeps Argon2's deliberate cost from being
turned into a denial of service. Replicas count separately, so the limits are
per replica (documented).

Memory and time stay bounded whatever callers send: keys are kept in the order
they were last used, so each attempt first forgets the keys whose window has
passed (from the front, O(1) each, amortised) and then, past ``max_keys``,
the least recently used ones. A key's own log holds at most ``limit`` times.
The earlier version kept every key it had seen and, past 10,000, scanned them
all on every attempt.

``UnknownAccounts`` counts failed sign-ins for usernames that do not exist,
with the same rule the database applies to real accounts (locked for a while
after ``LOCK_AFTER_FAILURES`` in a row), so a 423 does not tell which
usernames exist.
"""

from collections import OrderedDict, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services.dispatch.domain.credentials import LOCK_AFTER_FAILURES, LOCKED_FOR

DEFAULT_MAX_KEYS = 10_000


@dataclass
class Throttle:
    limit: int
    window: timedelta
    max_keys: int = DEFAULT_MAX_KEYS
    # key -> times of its recent attempts; ordered by last use (oldest first).
    _seen: OrderedDict[str, deque[datetime]] = field(default_factory=OrderedDict)

    def allow(self, key: str, now: datetime) -> bool:
        """Count an attempt for ``key``; False when it is over the limit (not counted then)."""
        self._forget_idle(now)
        recent = self._seen.get(key)
        if recent is None:
            recent = self._seen[key] = deque(maxlen=self.limit)
        self._seen.move_to_end(key)
        while recent and recent[0] <= now - self.window:
            recent.popleft()
        if len(recent) >= self.limit:
            return False
        recent.append(now)
        while len(self._seen) > self.max_keys:
            self._seen.popitem(last=False)
        return True

    def retry_after(self, key: str, now: datetime) -> int:
        recent = self._seen.get(key)
        if not recent:
            return 0
        return max(1, int((recent[0] + self.window - now).total_seconds()) + 1)

    def __len__(self) -> int:
        return len(self._seen)

    def _forget_idle(self, now: datetime) -> None:
        # The front key is the least recently used: if its newest attempt is out of the
        # window, nothing it holds still counts. Stop at the first key still in use.
        while self._seen:
            key, recent = next(iter(self._seen.items()))
            if recent and recent[-1] > now - self.window:
                return
            del self._seen[key]


@dataclass
class _Failures:
    count: int = 0
    locked_until: datetime | None = None


@dataclass
class UnknownAccounts:
    """Failed sign-ins for usernames that do not exist, counted as for real accounts."""

    max_keys: int = 20_000
    _book: OrderedDict[str, _Failures] = field(default_factory=OrderedDict)

    def locked_until(self, username: str, now: datetime) -> datetime | None:
        entry = self._book.get(username)
        if entry is None or entry.locked_until is None:
            return None
        if entry.locked_until > now:
            return entry.locked_until
        # The lock has passed: like a real account, the count starts again from nothing.
        del self._book[username]
        return None

    def failed(self, username: str, now: datetime) -> datetime | None:
        """Count a failure; the time it is locked until if this one locks it."""
        entry = self._book.pop(username, None) or _Failures()
        self._book[username] = entry  # most recently used last
        entry.count += 1
        if entry.count >= LOCK_AFTER_FAILURES:
            entry.count = 0
            entry.locked_until = now + LOCKED_FOR
        while len(self._book) > self.max_keys:
            self._book.popitem(last=False)
        return entry.locked_until

    def __len__(self) -> int:
        return len(self._book)
