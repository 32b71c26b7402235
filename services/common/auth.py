"""Authentication and role checks for every API route.

A request carries ``Authorization: Bearer <access token>``: a short-lived JWT
that dispatch signed when a person signed in (password + TOTP) or a service
client exchanged its API key (``services.common.tokens``). Each service
verifies it itself, then checks the revocation list, then the route's role
set. A service started without ``CORESPOND_AUTH_SECRET`` refuses every
request rather than running open.

``admin`` passes every role check except the auditor's: whoever administers
accounts must not be able to read (or be the only reader of) the trail of
their own actions.
"""

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.common.access_audit import note_route
from services.common.revocations import is_revoked
from services.common.runtime import ServiceRuntime
from services.common.tokens import TokenKeys


class StaffRole(StrEnum):
    CALL_TAKER = "call_taker"
    DISPATCHER = "dispatcher"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    AUDITOR = "auditor"
    PROGRAM_MANAGER = "program_manager"
    # A service client: a unit's terminal or phone app reporting status and location.
    UNIT = "unit"
    # A service client: a partner CAD handing incidents over as EIDOs and reading them back.
    CAD = "cad"
    # A service client: a treatment provider's system working its own referral Tasks
    # (FHIR), bound to one organisation of the provider directory.
    PROVIDER = "provider"


@dataclass(frozen=True)
class Principal:
    """Who is calling: ``subject`` is the name shown on timelines and in the audit trail."""

    subject: str
    roles: frozenset[StaffRole]
    kind: str = "system"  # "user", "client", or "system" for corespond's own actions
    subject_id: str = ""
    session_id: str | None = None

    def has_any(self, allowed: frozenset[StaffRole], *, admin_passes: bool = True) -> bool:
        if admin_passes and StaffRole.ADMIN in self.roles:
            return True
        return bool(self.roles & allowed)


_bearer = HTTPBearer(auto_error=False)


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=detail,
        headers={"WWW-Authenticate": "Bearer"},
    )


async def authenticate(request: Request, token: str) -> Principal:
    keys: TokenKeys | None = request.app.state.token_keys
    runtime: ServiceRuntime = request.app.state.runtime
    if keys is None:
        raise _unauthorized("this service has no CORESPOND_AUTH_SECRET: nobody can sign in")
    claims = keys.verify(token, runtime.clock.now())
    if claims is None:
        raise _unauthorized("the bearer token is not valid or has expired")
    async with runtime.db.session() as session:
        if await is_revoked(session, claims):
            raise _unauthorized("the bearer token has been revoked")
    roles = frozenset(StaffRole(r) for r in claims.roles if r in StaffRole.__members__.values())
    principal = Principal(
        subject=claims.name,
        roles=roles,
        kind=claims.kind,
        subject_id=claims.subject_id,
        session_id=claims.session_id,
    )
    request.state.principal = principal  # for the audit record of this request
    return principal


def require_roles(
    *roles: StaffRole, admin_passes: bool = True
) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency that authenticates the caller and admits only ``roles`` (and admin)."""
    allowed = frozenset(roles)

    async def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        note_route(request)
        if credentials is None:
            raise _unauthorized("a bearer token is required")
        principal = await authenticate(request, credentials.credentials)
        if not principal.has_any(allowed, admin_passes=admin_passes):
            raise HTTPException(
                status_code=status.HTTP_403_FORBIDDEN,
                detail=f"this action needs one of the roles: {', '.join(sorted(allowed))}",
            )
        return principal

    dependency.__name__ = "require_" + "_or_".join(sorted(allowed))
    return dependency
