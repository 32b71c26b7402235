"""Dependencies every dispatch route uses, as ``Annotated`` aliases."""

from typing import Annotated

from fastapi import Depends, Request

from services.common.auth import Principal, StaffRole, require_roles
from services.common.runtime import ServiceRuntime


def get_runtime(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


Runtime = Annotated[ServiceRuntime, Depends(get_runtime)]

CallTaker = Annotated[
    Principal,
    Depends(require_roles(StaffRole.CALL_TAKER, StaffRole.DISPATCHER, StaffRole.SUPERVISOR)),
]
IncidentReader = Annotated[
    Principal,
    Depends(require_roles(StaffRole.CALL_TAKER, StaffRole.DISPATCHER, StaffRole.SUPERVISOR)),
]
UnitReader = Annotated[
    Principal, Depends(require_roles(StaffRole.DISPATCHER, StaffRole.SUPERVISOR))
]
