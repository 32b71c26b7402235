"""dispatch's audit trail: records from every service appended to one hash chain.

Records arrive on the audit topic, all on one partition, so one consumer
appends them in order. A record's number is the previous one plus one under a
primary key, so two writers (a rebalance overlap) cannot fork the chain: the
loser's transaction fails and its event is retried after the winner's.
"""

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from schemas.envelope import CloudEvent
from schemas.events import AuditRecorded
from services.common.clock import as_utc
from services.common.outbox import UnitOfWork
from services.dispatch.adapters.audit_models import AuditAnchor, AuditEntry
from services.dispatch.domain.audit_chain import GENESIS, Link, Verdict, entry_hash, verify

_FIELDS = (
    "event_id",
    "at",
    "service",
    "actor",
    "actor_kind",
    "roles",
    "source_ip",
    "action",
    "target_type",
    "target_id",
    "outcome",
    "request_id",
)


def _fields(entry: AuditEntry) -> dict[str, Any]:
    values = {name: getattr(entry, name) for name in _FIELDS}
    values["at"] = _utc_text(entry.at)
    return values


def _utc_text(at: datetime) -> str:
    # SQLite hands datetimes back naive; hash one spelling whatever the database.
    return as_utc(at).isoformat(timespec="microseconds")


async def _head(session: AsyncSession) -> tuple[int, str]:
    last = await session.scalar(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1))
    if last is not None:
        return last.seq, last.hash
    anchor = await session.get(AuditAnchor, 1)
    return (anchor.seq, anchor.hash) if anchor else (0, GENESIS)


async def append(uow: UnitOfWork, event: CloudEvent, data: AuditRecorded) -> None:
    if await uow.session.scalar(select(AuditEntry.seq).where(AuditEntry.event_id == event.id)):
        return  # already chained (a redelivery the inbox did not catch)
    seq, previous = await _head(uow.session)
    entry = AuditEntry(
        seq=seq + 1,
        event_id=event.id,
        at=data.at,
        service=data.service,
        actor=data.actor,
        actor_kind=data.actor_kind,
        roles=data.roles,
        source_ip=data.source_ip,
        action=data.action,
        target_type=data.target_type,
        target_id=data.target_id,
        outcome=data.outcome,
        request_id=data.request_id,
        prev_hash=previous,
        hash="",
    )
    entry.hash = entry_hash(previous, entry.seq, _fields(entry))
    uow.session.add(entry)


async def _links(session: AsyncSession, after: int) -> AsyncIterator[Link]:
    batch = 1000
    while True:
        rows = (
            await session.scalars(
                select(AuditEntry)
                .where(AuditEntry.seq > after)
                .order_by(AuditEntry.seq)
                .limit(batch)
            )
        ).all()
        for row in rows:
            yield Link(row.seq, _fields(row), row.prev_hash, row.hash)
        if len(rows) < batch:
            return
        after = rows[-1].seq


async def check(session: AsyncSession) -> Verdict:
    anchor = await session.get(AuditAnchor, 1)
    start, start_hash = (anchor.seq, anchor.hash) if anchor else (0, GENESIS)
    links = [link async for link in _links(session, start)]
    return verify(start, start_hash, links)


async def purge(uow: UnitOfWork, keep_days: int) -> int:
    """Delete records older than ``keep_days``; the last deleted one becomes the anchor."""
    cutoff = uow.clock.now() - timedelta(days=keep_days)
    last_old = await uow.session.scalar(
        select(AuditEntry).where(AuditEntry.at < cutoff).order_by(AuditEntry.seq.desc()).limit(1)
    )
    if last_old is None:
        return 0
    count = await uow.session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.seq <= last_old.seq)
    )
    anchor = await uow.session.get(AuditAnchor, 1)
    note = f"purged records up to #{last_old.seq} (older than {keep_days} days)"
    if anchor is None:
        uow.session.add(
            AuditAnchor(
                id=1, seq=last_old.seq, hash=last_old.hash, purged_at=uow.clock.now(), note=note
            )
        )
    else:
        anchor.seq, anchor.hash, anchor.purged_at, anchor.note = (
            last_old.seq,
            last_old.hash,
            uow.clock.now(),
            note,
        )
    await uow.session.execute(delete(AuditEntry).where(AuditEntry.seq <= last_old.seq))
    return int(count or 0)


@dataclass(frozen=True)
class Search:
    actor: str | None = None
    action: str | None = None
    target_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    after_seq: int = 0
    limit: int = 100


async def search(session: AsyncSession, q: Search) -> Sequence[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.seq > q.after_seq)
    if q.actor:
        query = query.where(AuditEntry.actor == q.actor)
    if q.action:
        query = query.where(AuditEntry.action.contains(q.action))
    if q.target_id:
        query = query.where(AuditEntry.target_id == q.target_id)
    if q.since:
        query = query.where(AuditEntry.at >= q.since)
    if q.until:
        query = query.where(AuditEntry.at < q.until)
    return (await session.scalars(query.order_by(AuditEntry.seq).limit(q.limit))).all()
