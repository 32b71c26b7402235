"""``GET /v1/policies``: the jurisdictions triage knows and their policy versions."""

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from services.common.auth import Principal, StaffRole, require_roles
from services.triage.domain.decide import POLICIES

router = APIRouter(prefix="/v1", tags=["policies"])


class PolicySummary(BaseModel):
    jurisdiction: str
    version: str
    in_person_clinicians: bool


@router.get("/policies", response_model=list[PolicySummary])
async def list_policies(
    _who: Annotated[
        Principal,
        Depends(
            require_roles(StaffRole.DISPATCHER, StaffRole.SUPERVISOR, StaffRole.PROGRAM_MANAGER)
        ),
    ],
) -> list[PolicySummary]:
    return [
        PolicySummary(
            jurisdiction=p.jurisdiction,
            version=p.version,
            in_person_clinicians=p.in_person_clinicians,
        )
        for p in POLICIES.values()
    ]
