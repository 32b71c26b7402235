"""Creating POSTs a CAD may retry, answered once (IETF httpapi ``Idempotency-Key`` draft).

A request carrying ``Idempotency-Key`` is remembered, in the same transaction
as what it created, with a fingerprint of the request (method, path, parsed
body) and the answer it got. For 24 hours the same client sending the same key:

- with the same request gets the first answer again (status, body, Location),
  and nothing is created a second time;
- with a different request is refused (422): a key names one request only.

Two retries racing each other both try to insert the key; the database's
primary key lets one commit, and the other, retried, finds it and replays it.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete

from services.common.clock import as_utc
from services.common.outbox import UnitOfWork
from services.dispatch.adapters.models import IdempotencyRecord
from services.dispatch.domain.errors import Unprocessable

KEEP_FOR = timedelta(hours=24)
HEADER = "Idempotency-Key"


@dataclass(frozen=True)
class Answer:
    status_code: int
    body: Any  # JSON-ready
    location: str | None = None


def fingerprint(method: str, path: str, body: Any) -> str:
    canonical = json.dumps([method.upper(), path, body], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


async def earlier_answer(
    uow: UnitOfWork, principal: str, key: str, request_fingerprint: str
) -> Answer | None:
    """The first answer to this key, if it is less than a day old and for this request."""
    record = await uow.session.get(IdempotencyRecord, _record_id(principal, key))
    if record is None:
        return None
    if as_utc(record.created_at) < uow.clock.now() - KEEP_FOR:
        await uow.session.delete(record)  # expired: the key is free again
        await uow.session.flush()
        return None
    if record.fingerprint != request_fingerprint:
        raise Unprocessable(
            HEADER,
            "this key was used for a different request in the last 24 hours; "
            "send a new key for a new request",
        )
    return Answer(record.status_code, json.loads(record.body), record.location)


def remember(
    uow: UnitOfWork, principal: str, key: str, request_fingerprint: str, answer: Answer
) -> None:
    uow.session.add(
        IdempotencyRecord(
            id=_record_id(principal, key),
            fingerprint=request_fingerprint,
            status_code=answer.status_code,
            location=answer.location,
            body=json.dumps(answer.body),
            created_at=uow.clock.now(),
        )
    )


def _record_id(principal: str, key: str) -> str:
    return hashlib.sha256(f"{principal}\0{key}".encode()).hexdigest()


async def purge_expired(uow: UnitOfWork, now: datetime) -> int:
    result = await uow.session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.created_at < now - KEEP_FOR)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
