"""Writing to the audit trail: one event per access or change, on the audit topic.

Every service records through here, in the same transaction as what it
records (or, for a read, in its own transaction before the response leaves),
via the outbox — so an access is never served without its record, and a
record never describes something that did not happen. dispatch chains the
records (``services.dispatch.app.audit_trail``).
"""

from schemas.envelope import EventType
from schemas.events import AuditRecorded
from services.common.outbox import UnitOfWork
from services.common.topics import AUDIT_KEY


def record(
    uow: UnitOfWork,
    *,
    service: str,
    actor: str,
    actor_kind: str,
    action: str,
    outcome: str,
    roles: list[str] | None = None,
    source_ip: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    request_id: str | None = None,
) -> None:
    uow.emit(
        EventType.AUDIT_RECORDED,
        AUDIT_KEY,
        AuditRecorded(
            at=uow.clock.now(),
            service=service,
            actor=actor,
            actor_kind=actor_kind,
            roles=sorted(roles or []),
            source_ip=source_ip,
            action=action,
            target_type=target_type,
            target_id=target_id,
            outcome=outcome,
            request_id=request_id,
        ),
    )
