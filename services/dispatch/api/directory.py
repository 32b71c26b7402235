"""``GET /v1/providers/hsds``: the treatment-provider directory as Open Referral HSDS 3.0."""

from typing import Any

from fastapi import APIRouter

from services.dispatch.api.deps import Runtime, UnitReporter
from services.dispatch.app import directory

router = APIRouter(prefix="/v1", tags=["providers"])


@router.get(
    "/providers/hsds",
    summary="The provider directory as HSDS 3.0",
    description=(
        "One page of HSDS 3.0 services (as its `GET /services` answers), each with its "
        "organization, location, address, phones and schedules. `x-corespond` on each service "
        "is corespond's extension: `service_type`, `capacity`, `timezone`, `on_call.name` "
        "(the on-call phone is never published). JSON Schema: `schemas/hsds/`."
    ),
)
async def directory_as_hsds(_who: UnitReporter, runtime: Runtime) -> dict[str, Any]:
    return await directory.as_hsds(runtime.db)
