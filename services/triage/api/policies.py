"""``GET /v1/policies``: the jurisdictions triage knows, their versions and programs."""

from typing import Annotated

from fastapi import APIRouter, Depends

from schemas.policy import Policy
from services.common.auth import Principal, StaffRole, require_roles
from services.triage.api.deps import Policies

router = APIRouter(prefix="/v1", tags=["policies"])

Reader = Annotated[
    Principal,
    Depends(require_roles(StaffRole.DISPATCHER, StaffRole.SUPERVISOR, StaffRole.PROGRAM_MANAGER)),
]


@router.get("/policies", response_model=list[Policy])
async def list_policies(_who: Reader, policies: Policies) -> list[Policy]:
    return list(policies)
