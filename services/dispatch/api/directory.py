"""``GET /v1/hsds/services``: the treatment-provider directory as Open Referral HSDS 3.0.

Named after HSDS 3.0's own API (``GET /services`` answers a page of services), so an
HSDS client pointed at ``/v1/hsds`` finds it. Not ``/v1/providers/hsds``: that path is
also ``PATCH /v1/providers/{provider_id}`` with the id "hsds", so its ``Allow`` would
advertise a method it does not have.
"""

from typing import Any

from fastapi import APIRouter

from services.dispatch.api.deps import Runtime, UnitReporter
from services.dispatch.app import directory

router = APIRouter(prefix="/v1", tags=["providers"])


@router.get(
    "/hsds/services",
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
