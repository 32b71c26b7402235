"""The shape every retention purge shares: keyset batches, one transaction each.

A purge must not hold the database for minutes, and replicas running it at
once must share the rows instead of repeating them (each service's query uses
``SKIP LOCKED`` on PostgreSQL). A dry run does the same work and rolls each
transaction back, so its counts are exactly what a real run would do.
"""

from collections.abc import Awaitable, Callable
from datetime import datetime

from services.common.db import Database, Session
from services.common.outbox import delete_published_before

# Purges one batch of rows whose key is greater than ``after``; returns their keys in order.
Batch = Callable[[Session, str], Awaitable[list[str]]]


async def in_batches(db: Database, batch: Batch, *, batch_size: int, dry_run: bool) -> int:
    """Run ``batch`` until it comes back short; returns how many rows it purged."""
    purged = 0
    after = ""
    while True:
        async with db.writing() as session:
            keys = await batch(session, after)
            purged += len(keys)
            await (session.rollback() if dry_run else session.commit())
        if len(keys) < batch_size:
            return purged
        after = keys[-1]  # read before the rollback, which expires the loaded rows


async def published_outbox(db: Database, cutoff: datetime, *, dry_run: bool) -> int:
    """Delete published outbox events from before ``cutoff``: copies of purged data."""
    async with db.writing() as session:
        deleted = await delete_published_before(session, cutoff)
        await (session.rollback() if dry_run else session.commit())
    return deleted
