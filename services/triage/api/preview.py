"""``POST /v1/triage/preview``: the decision for a call, with no side effects."""

from typing import Annotated

from fastapi import APIRouter, Depends

from schemas.calls import CallIntake
from schemas.triage import TriageDecision
from services.common.auth import Principal, StaffRole, require_roles
from services.triage.api.deps import Policies
from services.triage.domain.decide import decide

router = APIRouter(prefix="/v1", tags=["triage"])

Reviewer = Annotated[
    Principal,
    Depends(require_roles(StaffRole.CALL_TAKER, StaffRole.DISPATCHER, StaffRole.SUPERVISOR)),
]


@router.post("/triage/preview", response_model=TriageDecision)
async def preview(call: CallIntake, _who: Reviewer, policies: Policies) -> TriageDecision:
    return decide(call, policies.get(call.jurisdiction))
