"""Bearer-token authentication and role checks for every API route.

Until real identities exist, the only credential is the bootstrap token
(``CORESPOND_BOOTSTRAP_TOKEN``, or the one ``corespond up`` generates), which
acts as ``admin``. Tokens are compared in constant time. A service started
without any token refuses every request rather than running open.
"""

import hmac
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr


class StaffRole(StrEnum):
    CALL_TAKER = "call_taker"
    DISPATCHER = "dispatcher"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    AUDITOR = "auditor"
    PROGRAM_MANAGER = "program_manager"
    # A service client: a unit's terminal or phone app reporting status and location.
    UNIT = "unit"


@dataclass(frozen=True)
class Principal:
    subject: str
    roles: frozenset[StaffRole]

    def has_any(self, allowed: frozenset[StaffRole]) -> bool:
        return StaffRole.ADMIN in self.roles or bool(self.roles & allowed)


class TokenAuthenticator:
    def __init__(self, bootstrap_token: SecretStr | None) -> None:
        self._bootstrap = bootstrap_token.get_secret_value().encode() if bootstrap_token else None

    def authenticate(self, token: str) -> Principal | None:
        if self._bootstrap is None:
            return None
        if hmac.compare_digest(token.encode(), self._bootstrap):
            return Principal(subject="bootstrap", roles=frozenset({StaffRole.ADMIN}))
        return None


_bearer = HTTPBearer(auto_error=False)


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=detail,
        headers={"WWW-Authenticate": "Bearer"},
    )


def require_roles(
    *roles: StaffRole,
) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency that authenticates the caller and admits only ``roles`` (and admin)."""
    allowed = frozenset(roles)

    async def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        if credentials is None:
            raise _unauthorized("a bearer token is required")
        authenticator: TokenAuthenticator = request.app.state.authenticator
        principal = authenticator.authenticate(credentials.credentials)
        if principal is None:
            raise _unauthorized("the bearer token is not valid")
        if not principal.has_any(allowed):
            raise HTTPException(
                status_code=status.HTTP_403_FORBIDDEN,
                detail=f"this action needs one of the roles: {', '.join(sorted(allowed))}",
            )
        return principal

    dependency.__name__ = "require_" + "_or_".join(sorted(allowed))
    return dependency
