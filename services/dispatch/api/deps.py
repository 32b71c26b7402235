"""Dependencies every dispatch route uses, as ``Annotated`` aliases."""

from typing import Annotated

from fastapi import Depends, Request

from services.common.auth import Principal, StaffRole, require_roles
from services.common.runtime import ServiceRuntime
from services.dispatch.app.context import DispatchContext
from services.dispatch.domain.geocoding import Geocoder


def get_runtime(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


Runtime = Annotated[ServiceRuntime, Depends(get_runtime)]


def get_context(request: Request) -> DispatchContext:
    context: DispatchContext = request.app.state.dispatch
    return context


Context = Annotated[DispatchContext, Depends(get_context)]


def get_geocoder(request: Request) -> Geocoder:
    geocoder: Geocoder = request.app.state.geocoder
    return geocoder


CallGeocoder = Annotated[Geocoder, Depends(get_geocoder)]

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
UnitManager = Annotated[Principal, Depends(require_roles(StaffRole.SUPERVISOR))]
# A unit reports for itself; a dispatcher may report for it (radio traffic).
UnitReporter = Annotated[
    Principal, Depends(require_roles(StaffRole.UNIT, StaffRole.DISPATCHER, StaffRole.SUPERVISOR))
]
Dispatcher = Annotated[
    Principal, Depends(require_roles(StaffRole.DISPATCHER, StaffRole.SUPERVISOR))
]
AlertReader = Annotated[
    Principal, Depends(require_roles(StaffRole.SUPERVISOR, StaffRole.DISPATCHER))
]
