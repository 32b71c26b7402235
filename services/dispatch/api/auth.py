"""Signing in: ``/v1/auth/*``. Open routes by nature; each is rate-limited and audited.

``login`` checks the password and answers with a short-lived token for the
second step (and, on first sign-in, the ``otpauth://`` URI to enrol an
authenticator app); ``mfa`` checks the TOTP code and opens a session: an
access token (minutes) and a refresh token. ``refresh`` keeps an active
session going; ``logout`` ends it. ``token`` exchanges a service client's
API key for an access token.
"""

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import BaseModel, ConfigDict, Field

from schemas.api import Problem
from schemas.text import Line
from services.common.auth import Principal, StaffRole, require_roles
from services.common.runtime import ServiceRuntime
from services.common.tokens import TokenKeys
from services.dispatch.api.deps import Runtime
from services.dispatch.app import identity
from services.dispatch.app.identity import AccountLocked, SessionPolicy, SignInRefused, Tokens
from services.dispatch.app.throttle import Throttle, UnknownAccounts
from services.dispatch.domain.credentials import password_problem
from services.dispatch.domain.errors import Unprocessable

router = APIRouter(prefix="/v1/auth", tags=["sign-in"])


class SignInLimits:
    """Each dispatch app counts its own (a module-level counter would be shared by every
    app in a process, and by tests)."""

    def __init__(self) -> None:
        self.per_source = Throttle(limit=30, window=timedelta(minutes=1))
        self.per_account = Throttle(limit=10, window=timedelta(minutes=1))
        self.unknown_accounts = UnknownAccounts()


_REFUSED: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "not signed in"},
    423: {"model": Problem, "description": "locked after repeated failures"},
    429: {"model": Problem, "description": "too many attempts; see Retry-After"},
}

AnyoneSignedIn = Annotated[
    Principal,
    Depends(
        require_roles(
            *StaffRole.__members__.values(),  # every role may sign itself out
        )
    ),
]


class Login(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: Line = Field(min_length=1, max_length=64)
    password: Line = Field(min_length=1, max_length=256)


class PasswordAccepted(BaseModel):
    mfa_token: str | None = Field(
        description="send with a TOTP code to /v1/auth/mfa (5 minutes); null when "
        "password_change_required"
    )
    enrol_uri: str | None = Field(
        description="first sign-in only: an otpauth:// URI to add to an authenticator app "
        "(shown as a QR code by the console)"
    )
    password_change_required: bool = Field(
        default=False,
        description="an admin set this password: choose your own with POST "
        "/v1/auth/password, then sign in with it (no session before)",
    )


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: Line = Field(min_length=1, max_length=64)
    password: Line = Field(min_length=1, max_length=256, description="the one the admin gave")
    new_password: Line = Field(
        max_length=256, description="at least 12 characters, not containing the username"
    )


class Mfa(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mfa_token: Line = Field(min_length=1, max_length=2048)
    code: str = Field(min_length=6, max_length=8, pattern=r"^\s*\d{6,8}\s*$")


class Refresh(BaseModel):
    model_config = ConfigDict(extra="forbid")
    refresh_token: Line = Field(min_length=1, max_length=256)


class KeyExchange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    api_key: Line = Field(min_length=1, max_length=256)


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth 2 token type, not a secret
    expires_in: int = Field(description="seconds")
    refresh_token: str | None = None


def _keys(request: Request) -> TokenKeys:
    keys: TokenKeys | None = request.app.state.token_keys
    if keys is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "CORESPOND_AUTH_SECRET is not set")
    return keys


def _policy(request: Request) -> SessionPolicy:
    policy: SessionPolicy = request.app.state.session_policy
    return policy


def _ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def _throttle(runtime: ServiceRuntime, request: Request, account: str | None) -> None:
    now = runtime.clock.now()
    limits: SignInLimits = request.app.state.sign_in_limits
    checks = [(limits.per_source, f"ip:{_ip(request)}")]
    if account:
        checks.append((limits.per_account, f"account:{account}"))
    for throttle, key in checks:
        if not throttle.allow(key, now):
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                "too many sign-in attempts; wait and try again",
                headers={"Retry-After": str(throttle.retry_after(key, now))},
            )


def _refuse(outcome: SignInRefused | AccountLocked) -> HTTPException:
    if isinstance(outcome, AccountLocked):
        return HTTPException(status.HTTP_423_LOCKED, str(outcome))
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, str(outcome), headers={"WWW-Authenticate": "Bearer"}
    )


def _out(tokens: Tokens) -> TokenOut:
    return TokenOut(
        access_token=tokens.access_token,
        expires_in=tokens.expires_in,
        refresh_token=tokens.refresh_token,
    )


@router.post("/login", response_model=PasswordAccepted, responses=_REFUSED)
async def login(body: Login, request: Request, runtime: Runtime) -> PasswordAccepted:
    """Step one of two: the password."""
    username = body.username.strip().lower()
    _throttle(runtime, request, username)
    limits: SignInLimits = request.app.state.sign_in_limits
    async with runtime.unit_of_work() as uow:
        outcome = await identity.check_password(
            uow, _keys(request), username, body.password, _ip(request), limits.unknown_accounts
        )
        await uow.commit()  # failures and lockouts are kept even though we refuse
    if not isinstance(outcome, identity.PasswordStep):
        raise _refuse(outcome)
    return PasswordAccepted(
        mfa_token=outcome.mfa_token,
        enrol_uri=outcome.enrol_uri,
        password_change_required=outcome.change_required,
    )


@router.post(
    "/password",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**_REFUSED, 409: {"model": Problem}, 422: {"model": Problem}},
)
async def change_password(body: PasswordChange, request: Request, runtime: Runtime) -> None:
    """The first sign-in with a password an admin set: the current password for one of
    your own (checked, counted and locked like a sign-in); then sign in with the new one."""
    username = body.username.strip().lower()
    _throttle(runtime, request, username)
    if problem := password_problem(body.new_password, username):
        raise Unprocessable("new_password", problem)
    if body.new_password == body.password:
        raise Unprocessable("new_password", "choose a password other than the one you were given")
    limits: SignInLimits = request.app.state.sign_in_limits
    async with runtime.unit_of_work() as uow:
        outcome = await identity.change_password(
            uow,
            _keys(request),
            username,
            body.password,
            body.new_password,
            _ip(request),
            limits.unknown_accounts,
        )
        await uow.commit()
    if not isinstance(outcome, identity.PasswordStep):
        raise _refuse(outcome)


@router.post("/mfa", response_model=TokenOut, responses=_REFUSED)
async def mfa(body: Mfa, request: Request, runtime: Runtime) -> TokenOut:
    """Step two of two: a code from the authenticator app."""
    keys = _keys(request)
    claims = keys.verify(body.mfa_token, runtime.clock.now(), kind="mfa")
    _throttle(runtime, request, claims.name if claims else None)
    if claims is None:
        raise _refuse(SignInRefused("the sign-in has expired: start again with the password"))
    async with runtime.unit_of_work() as uow:
        outcome = await identity.check_code(
            uow, keys, _policy(request), claims, body.code, _ip(request)
        )
        await uow.commit()
    if not isinstance(outcome, Tokens):
        raise _refuse(outcome)
    return _out(outcome)


@router.post("/refresh", response_model=TokenOut, responses=_REFUSED)
async def refresh(body: Refresh, request: Request, runtime: Runtime) -> TokenOut:
    """A fresh access token while the session is in use; signed out after inactivity."""
    _throttle(runtime, request, None)
    async with runtime.unit_of_work() as uow:
        tokens = await identity.refresh(uow, _keys(request), _policy(request), body.refresh_token)
        await uow.commit()
    return _out(tokens)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(who: AnyoneSignedIn, request: Request, runtime: Runtime) -> None:
    """End this session: its refresh token and its access tokens stop working everywhere."""
    async with runtime.unit_of_work() as uow:
        await identity.sign_out(
            uow,
            who.session_id,
            who.subject,
            _ip(request),
            kind=who.kind,
            subject_id=who.subject_id,
        )
        await uow.commit()


@router.post("/token", response_model=TokenOut, responses=_REFUSED)
async def exchange(body: KeyExchange, request: Request, runtime: Runtime) -> TokenOut:
    """A service client's API key for an access token (no refresh: exchange again)."""
    _throttle(runtime, request, None)
    async with runtime.unit_of_work() as uow:
        outcome = await identity.exchange_api_key(
            uow, _keys(request), _policy(request), body.api_key, _ip(request)
        )
        await uow.commit()
    if not isinstance(outcome, Tokens):
        raise _refuse(outcome)
    return _out(outcome)
