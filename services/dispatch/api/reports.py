"""``GET /v1/reports/summary``: program figures for program managers, with nothing personal."""

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from schemas.api import Instant, IsoDateTime
from services.common.auth import Principal, StaffRole, require_roles
from services.dispatch.api.deps import Runtime
from services.dispatch.app.reports import summarise

router = APIRouter(prefix="/v1", tags=["reports"])

Reporter = Annotated[
    Principal, Depends(require_roles(StaffRole.PROGRAM_MANAGER, StaffRole.SUPERVISOR))
]


class SummaryView(BaseModel):
    since: Instant | None
    until: Instant | None
    incidents: int
    by_response_model: dict[str, int]
    by_priority: dict[str, int]
    by_source: dict[str, int]
    by_jurisdiction: dict[str, int]
    by_disposition: dict[str, int]
    assignments_by_role_and_outcome: dict[str, int]


@router.get("/reports/summary", response_model=SummaryView)
async def summary(
    _who: Reporter,
    runtime: Runtime,
    since: IsoDateTime | None = None,
    until: IsoDateTime | None = None,
) -> SummaryView:
    """Incidents received in [since, until): how they were answered and how they ended."""
    async with runtime.db.session() as session:
        found = await summarise(session, since, until)
    return SummaryView(**found.__dict__)
