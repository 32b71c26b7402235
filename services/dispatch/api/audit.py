"""``GET /v1/audit``: the audit trail, searchable by auditors only (not even admins)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from schemas.api import Instant, IsoDateTime
from services.common.auth import Principal, StaffRole, require_roles
from services.dispatch.api.deps import Runtime
from services.dispatch.app import audit_trail

router = APIRouter(prefix="/v1", tags=["audit"])

# Separation of duties: whoever administers accounts cannot read the trail of their own acts.
Auditor = Annotated[Principal, Depends(require_roles(StaffRole.AUDITOR, admin_passes=False))]


class AuditView(BaseModel):
    seq: int
    at: Instant
    service: str
    actor: str
    actor_kind: str
    roles: list[str]
    source_ip: str | None
    action: str
    target_type: str | None
    target_id: str | None
    outcome: str
    request_id: str | None
    hash: str


@router.get("/audit", response_model=list[AuditView])
async def search_audit(
    _who: Auditor,
    runtime: Runtime,
    actor: Annotated[str | None, Query(max_length=160)] = None,
    action: Annotated[str | None, Query(max_length=160, description="part of the action")] = None,
    target_id: Annotated[str | None, Query(max_length=128)] = None,
    since: IsoDateTime | None = None,
    until: IsoDateTime | None = None,
    after_seq: Annotated[int, Query(ge=0, description="page on: the last seq you have")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditView]:
    query = audit_trail.Search(actor, action, target_id, since, until, after_seq, limit)
    async with runtime.db.session() as session:
        rows = await audit_trail.search(session, query)
    return [
        AuditView(
            seq=r.seq,
            at=r.at,
            service=r.service,
            actor=r.actor,
            actor_kind=r.actor_kind,
            roles=r.roles,
            source_ip=r.source_ip,
            action=r.action,
            target_type=r.target_type,
            target_id=r.target_id,
            outcome=r.outcome,
            request_id=r.request_id,
            hash=r.hash,
        )
        for r in rows
    ]
