"""Every API access becomes an audit record before its response leaves the service.

Who (the token's subject, or "anonymous" when there is none or it was refused),
when, from where, which route on which record (the route's template, so a
link's token never reaches the trail), and the outcome. Reads count: opening
an incident records that its narrative and caller were seen. If the record
cannot be written the caller gets 503 and not the data. Sign-in routes record
their own, richer events (failures, lockouts), so they are not recorded twice.
"""

import logging
from typing import TYPE_CHECKING, Any

from fastapi import Request, Response

from schemas.api import Problem
from schemas.text import MAX_ID_CHARS, clean_line
from services.common import audit
from services.common.problems import AUDIT_UNAVAILABLE, problem_response
from services.common.runtime import ServiceRuntime

if TYPE_CHECKING:  # auth notes the route through this module
    from services.common.auth import Principal

log = logging.getLogger(__name__)

# /EIDO/ is the NENA-STA-024 dereference path: an incident read like /v1/incidents/{id};
# /fhir/ is the referral API providers' systems use.
AUDITED_PREFIXES = ("/v1/", "/r/", "/t/", "/EIDO/", "/fhir/")
SELF_AUDITED = ("/v1/auth/",)
# Path parameters that name the record acted on, most specific first.
TARGETS = (
    "assignment_id",
    "incident_id",
    "unit_id",
    "provider_id",
    "alert_id",
    "user_id",
    "client_id",
    "eido_id",
    "task_id",
    "service_request_id",
)


def audited(path: str) -> bool:
    return path.startswith(AUDITED_PREFIXES) and not path.startswith(SELF_AUDITED)


def note_route(request: Request) -> None:
    """Called inside the route (the audit middleware's own scope never sees the match)."""
    route = request.scope.get("route")
    request.state.audit_route = (
        getattr(route, "path", "(no route)"),
        dict(request.scope.get("path_params", {})),
    )


def _route(request: Request) -> tuple[str, dict[str, Any]]:
    noted: tuple[str, dict[str, Any]] | None = getattr(request.state, "audit_route", None)
    if noted is not None:
        return noted
    # Link routes take no token; their template is known, and the token is never recorded.
    for prefix in ("/r/", "/t/"):
        if request.url.path.startswith(prefix):
            return prefix + "{token}", {}
    return "(no route)", {}


def _target(params: dict[str, Any]) -> tuple[str | None, str | None]:
    for name in TARGETS:
        if name in params:
            # The caller wrote it: kept as one line and cut to the trail's column, so an
            # absurd id is still recorded (and still a 404) instead of failing the chain.
            return name.removesuffix("_id"), clean_line(str(params[name]))[:MAX_ID_CHARS]
    return None, None


async def record_access(request: Request, response: Response) -> Response:
    runtime: ServiceRuntime = request.app.state.runtime
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is not None:
        actor, kind, roles = principal.subject, principal.kind, sorted(principal.roles)
    elif request.url.path.startswith(("/r/", "/t/")):
        actor, kind, roles = "responder link", "link", []
    else:
        actor, kind, roles = "anonymous", "none", []
    template, params = _route(request)
    action = f"{request.method} {template}"
    target_type, target_id = _target(params)
    request_id = getattr(request.state, "request_id", None)
    try:
        async with runtime.unit_of_work(correlation_id=request_id) as uow:
            audit.record(
                uow,
                service=runtime.settings.service_name,
                actor=actor,
                actor_kind=kind,
                roles=[str(r) for r in roles],
                source_ip=request.client.host if request.client else None,
                action=action,
                target_type=target_type,
                target_id=target_id,
                outcome=str(response.status_code),
                request_id=request_id,
            )
            await uow.commit()
    except Exception:
        log.exception("audit.unrecorded", extra={"action": action})
        return problem_response(
            Problem(
                type=AUDIT_UNAVAILABLE,
                title="The access could not be recorded",
                status=503,
                detail="nothing is served without its audit record; try again",
                instance=request.url.path,
            )
        )
    return response
