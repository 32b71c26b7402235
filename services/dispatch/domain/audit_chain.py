"""The audit trail's hash chain, free of storage: how a record is hashed and a run verified.

Each record's hash covers its own fields and the previous record's hash, so
changing, removing or reordering any record breaks every hash after it.
Purging old records keeps the chain verifiable: the hash of the last purged
record is kept as the anchor the remaining run starts from.
"""

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

GENESIS = "0" * 64


def entry_hash(previous: str, seq: int, fields: dict[str, Any]) -> str:
    body = json.dumps({"seq": seq, **fields}, sort_keys=True, separators=(",", ":"), default=_plain)
    return hashlib.sha256(f"{previous}\n{body}".encode()).hexdigest()


def _plain(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not hashable in the audit chain: {type(value).__name__}")


@dataclass(frozen=True)
class Link:
    seq: int
    fields: dict[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class Verdict:
    ok: bool
    checked: int
    first_seq: int | None
    last_seq: int | None
    broken_at: int | None = None
    why: str | None = None


def verify(anchor_seq: int, anchor_hash: str, links: Iterable[Link]) -> Verdict:
    """Walk ``links`` in order from the anchor; the first record that does not fit is named."""
    expected_seq, previous = anchor_seq + 1, anchor_hash
    checked, first = 0, None
    for link in links:
        if link.seq != expected_seq:
            return Verdict(False, checked, first, link.seq, link.seq, f"expected #{expected_seq}")
        if link.prev_hash != previous:
            why = "its link to the previous record does not match"
            return Verdict(False, checked, first, link.seq, link.seq, why)
        if entry_hash(previous, link.seq, link.fields) != link.hash:
            why = "its content does not match its hash"
            return Verdict(False, checked, first, link.seq, link.seq, why)
        first = link.seq if first is None else first
        checked += 1
        expected_seq, previous = link.seq + 1, link.hash
    return Verdict(True, checked, first, expected_seq - 1 if checked else None)
