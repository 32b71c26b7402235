"""Sign-in attempts per source and per account in a sliding window (per process).

The account lockout stops guessing one account's password; this stops a
source spraying many accounts, and keeps Argon2's deliberate cost from being
turned into a denial of service. Replicas count separately, so the limits are
per replica (documented).
"""

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass
class Throttle:
    limit: int
    window: timedelta
    _seen: dict[str, deque[datetime]] = field(default_factory=dict)

    def allow(self, key: str, now: datetime) -> bool:
        """Count an attempt for ``key``; False when it is over the limit (not counted then)."""
        recent = self._seen.setdefault(key, deque())
        while recent and recent[0] <= now - self.window:
            recent.popleft()
        if len(recent) >= self.limit:
            return False
        recent.append(now)
        if len(self._seen) > 10_000:  # forget idle keys so memory stays bounded
            for stale in [k for k, v in self._seen.items() if not v]:
                del self._seen[stale]
        return True

    def retry_after(self, key: str, now: datetime) -> int:
        recent = self._seen.get(key)
        if not recent:
            return 0
        return max(1, int((recent[0] + self.window - now).total_seconds()) + 1)
