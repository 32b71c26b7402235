"""Where a live-updates client stands in the timeline, and which rows it may still be missing.

The console's live stream is driven by the ``timeline`` table: every change to
an incident (intake, triage, offers, SMS delivery, replies, joins, handoffs,
closing) writes a row, and rows get increasing ids. A client's position is the
highest id it has been told about; that number is its SSE event id, so a client
that reconnects with ``Last-Event-ID`` misses nothing.

One subtlety: ids are handed out when a row is *inserted*, not when its
transaction commits. On PostgreSQL (and with several dispatch replicas) a
transaction holding id 41 can commit after one holding id 42, so a reader that
jumped to 42 would never see 41. Ids skipped over are therefore kept as
*pending* for a number of polls and looked for again; a rolled-back insert
leaves a gap that simply ages out.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

# Polls (about a second each) an id below the position is looked for again.
PENDING_POLLS = 30
# Only this many ids below the newest can be pending: a client resuming from far
# back (or a sequence that jumped) must not make the cursor track a million holes.
PENDING_SPAN = 1000


@dataclass(frozen=True)
class ChangeCursor:
    position: int
    # id -> polls left to look for it
    pending: dict[int, int] = field(default_factory=dict)

    def after(self, seen: Iterable[int]) -> "ChangeCursor":
        """The cursor once the rows ``seen`` (new ones and found pending ones) were sent."""
        ids = set(seen)
        top = max([self.position, *ids])
        pending = {i: left - 1 for i, left in self.pending.items() if i not in ids and left > 1}
        for gap in range(max(self.position + 1, top - PENDING_SPAN), top):
            if gap not in ids:
                pending[gap] = PENDING_POLLS
        return ChangeCursor(top, pending)

    @property
    def event_id(self) -> str:
        return str(self.position)


def parse_event_id(value: str | None) -> int | None:
    """A ``Last-Event-ID`` (or ``since``) as a position; anything unreadable means "from now"."""
    if value is None:
        return None
    text = value.strip()
    return int(text) if text.isdigit() and len(text) < 19 else None
