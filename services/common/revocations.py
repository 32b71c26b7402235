"""The revocation list every service keeps: tokens issued before a revocation are refused.

Access tokens are verified locally, so disabling a user or revoking an API key
must reach triage and notify too. dispatch announces each revocation on the
identity topic; every service's consumer writes it here, and every
authenticated request checks its subject, and its session, against it.
"""

from datetime import datetime

from sqlalchemy import DateTime, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from schemas.envelope import CloudEvent, EventType
from schemas.events import SubjectRevoked
from services.common.clock import as_utc
from services.common.consumer import Handler
from services.common.db import RuntimeBase
from services.common.outbox import UnitOfWork
from services.common.tokens import Claims


class RevocationRecord(RuntimeBase):
    __tablename__ = "revocations"

    key: Mapped[str] = mapped_column(String(96), primary_key=True)
    revoked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(String(64))


def keys_of(claims: Claims) -> list[str]:
    keys = [f"{claims.kind}:{claims.subject_id}"]
    if claims.kind == "mfa":
        keys = [f"user:{claims.subject_id}"]
    if claims.session_id:
        keys.append(f"session:{claims.session_id}")
    return keys


async def is_revoked(session: AsyncSession, claims: Claims) -> bool:
    rows = (
        await session.scalars(
            select(RevocationRecord.revoked_at).where(RevocationRecord.key.in_(keys_of(claims)))
        )
    ).all()
    # A token's iat is whole seconds: one issued in the same second as the revocation is void too.
    return any(claims.issued_at <= as_utc(at) for at in rows)


async def record(session: AsyncSession, key: str, revoked_at: datetime, reason: str) -> None:
    """Keep the latest revocation of ``key`` (a replayed older one changes nothing)."""
    row = await session.get(RevocationRecord, key)
    if row is None:
        session.add(RevocationRecord(key=key, revoked_at=revoked_at, reason=reason))
    elif as_utc(row.revoked_at) < as_utc(revoked_at):
        row.revoked_at, row.reason = revoked_at, reason


async def revoke(uow: UnitOfWork, key: str, reason: str) -> None:
    """Revoke here at once, and announce it to every service (triage, notify, other replicas)."""
    await record(uow.session, key, uow.clock.now(), reason)
    uow.emit(
        EventType.SUBJECT_REVOKED,
        key,
        SubjectRevoked(key=key, revoked_at=uow.clock.now(), reason=reason),
    )


async def _on_subject_revoked(uow: UnitOfWork, _event: CloudEvent, data: SubjectRevoked) -> None:
    await record(uow.session, data.key, data.revoked_at, data.reason)


HANDLERS: dict[str, Handler] = {EventType.SUBJECT_REVOKED: _on_subject_revoked}
