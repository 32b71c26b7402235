"""Accounts (admin only): people with roles, and service clients with API keys."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, status
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from sqlalchemy import select

from schemas.api import Instant, Problem
from schemas.text import ONE_LINE, Line
from services.common.auth import Principal, StaffRole, require_roles
from services.dispatch.adapters.identity_models import ClientRecord, UserRecord
from services.dispatch.api.deps import Runtime
from services.dispatch.app import identity
from services.dispatch.domain.credentials import password_problem, username_problem
from services.dispatch.domain.errors import Unprocessable

router = APIRouter(prefix="/v1", tags=["accounts"])

Admin = Annotated[Principal, Depends(require_roles(StaffRole.ADMIN))]
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": Problem}}
_CONFLICT: dict[int | str, dict[str, Any]] = {409: {"model": Problem}}
# A service client acts as a system, not a person: it never gets admin or auditor.
CLIENT_ROLES = {
    StaffRole.UNIT,
    StaffRole.CALL_TAKER,
    StaffRole.DISPATCHER,
    StaffRole.CAD,
    StaffRole.PROVIDER,
}


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: Line = Field(max_length=64)
    display_name: Line = Field(min_length=1, max_length=128)
    roles: list[StaffRole] = Field(min_length=1)
    password: Line = Field(description="at least 12 characters, not containing the username")

    @field_validator("username")
    @classmethod
    def _username(cls, value: str) -> str:
        value = value.strip().lower()
        if problem := username_problem(value):
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _password(self) -> "UserIn":
        if problem := password_problem(self.password, self.username):
            raise ValueError(f"password: {problem}")
        return self


class NewPassword(BaseModel):
    model_config = ConfigDict(extra="forbid")
    password: Line


class UserView(BaseModel):
    id: str
    username: str
    display_name: str
    roles: list[str]
    mfa_enrolled: bool
    disabled: bool
    locked_until: Instant | None
    created_at: Instant
    last_sign_in_at: Instant | None


OrganizationName = Annotated[str, StringConstraints(min_length=1, max_length=120), ONE_LINE]


class ClientIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=2, max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]+$")
    roles: list[StaffRole] = Field(min_length=1)
    # For role ``provider``: the organisation as the provider directory names it.
    organization: OrganizationName | None = None

    @field_validator("roles")
    @classmethod
    def _scoped(cls, roles: list[StaffRole]) -> list[StaffRole]:
        wrong = [r.value for r in roles if r not in CLIENT_ROLES]
        if wrong:
            allowed = ", ".join(sorted(r.value for r in CLIENT_ROLES))
            raise ValueError(f"a client may hold only {allowed}; not {', '.join(wrong)}")
        return roles

    @model_validator(mode="after")
    def _provider_has_organization(self) -> "ClientIn":
        # A provider's system sees its own referral Tasks only: whose they are must be known.
        if (StaffRole.PROVIDER in self.roles) != (self.organization is not None):
            raise ValueError("a provider client needs its organization, and only it has one")
        # With a staff role beside it, the client would read every provider's referrals.
        if StaffRole.PROVIDER in self.roles and len(set(self.roles)) > 1:
            raise ValueError("a provider client holds the provider role only")
        return self


class ClientView(BaseModel):
    id: str
    name: str
    roles: list[str]
    organization: str | None = None
    created_at: Instant
    rotated_at: Instant | None
    revoked_at: Instant | None
    last_used_at: Instant | None


class ClientKey(BaseModel):
    client: ClientView
    api_key: str = Field(description="shown this once; only its hash is kept")


def user_view(user: UserRecord) -> UserView:
    return UserView(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        roles=user.roles,
        mfa_enrolled=user.totp_confirmed,
        disabled=user.disabled_at is not None,
        locked_until=user.locked_until,
        created_at=user.created_at,
        last_sign_in_at=user.last_sign_in_at,
    )


def client_view(client: ClientRecord) -> ClientView:
    return ClientView(
        id=client.id,
        name=client.name,
        roles=client.roles,
        organization=client.organization,
        created_at=client.created_at,
        rotated_at=client.rotated_at,
        revoked_at=client.revoked_at,
        last_used_at=client.last_used_at,
    )


@router.get("/users", response_model=list[UserView])
async def list_users(_who: Admin, runtime: Runtime) -> list[UserView]:
    async with runtime.db.session() as session:
        users = (await session.scalars(select(UserRecord).order_by(UserRecord.username))).all()
    return [user_view(u) for u in users]


@router.post(
    "/users", response_model=UserView, status_code=status.HTTP_201_CREATED, responses=_CONFLICT
)
async def add_user(body: UserIn, _who: Admin, runtime: Runtime) -> UserView:
    async with runtime.unit_of_work() as uow:
        user = await identity.create_user(
            uow, body.username, body.display_name, [r.value for r in body.roles], body.password
        )
        await uow.commit()
    return user_view(user)


async def _change_user(runtime: Runtime, user_id: str, change: str, password: str = "") -> UserView:
    async with runtime.unit_of_work() as uow:
        user = await identity.find_user(uow, user_id)
        if change == "disable":
            await identity.disable_user(uow, user)
        elif change == "enable":
            await identity.enable_user(uow, user)
        elif change == "reset-mfa":
            await identity.reset_mfa(uow, user)
        else:
            await identity.set_password(uow, user, password)
        await uow.commit()
    return user_view(user)


@router.post("/users/{user_id}/disable", response_model=UserView, responses=_NOT_FOUND)
async def disable_user(user_id: str, _who: Admin, runtime: Runtime) -> UserView:
    """Signed out everywhere at once; cannot sign in until enabled."""
    return await _change_user(runtime, user_id, "disable")


@router.post("/users/{user_id}/enable", response_model=UserView, responses=_NOT_FOUND)
async def enable_user(user_id: str, _who: Admin, runtime: Runtime) -> UserView:
    """Enabled again, and unlocked."""
    return await _change_user(runtime, user_id, "enable")


@router.post("/users/{user_id}/reset-mfa", response_model=UserView, responses=_NOT_FOUND)
async def reset_user_mfa(user_id: str, _who: Admin, runtime: Runtime) -> UserView:
    """The next sign-in enrols a new authenticator; current sessions end."""
    return await _change_user(runtime, user_id, "reset-mfa")


@router.post(
    "/users/{user_id}/password", response_model=UserView, responses={**_NOT_FOUND, 422: {}}
)
async def reset_password(
    user_id: str, body: NewPassword, _who: Admin, runtime: Runtime
) -> UserView:
    """A new password set by an admin; current sessions end."""
    async with runtime.db.session() as session:
        user = await session.get(UserRecord, user_id)
    if user is not None and (problem := password_problem(body.password, user.username)):
        raise Unprocessable("password", problem)
    return await _change_user(runtime, user_id, "password", body.password)


@router.get("/clients", response_model=list[ClientView])
async def list_clients(_who: Admin, runtime: Runtime) -> list[ClientView]:
    async with runtime.db.session() as session:
        clients = (await session.scalars(select(ClientRecord).order_by(ClientRecord.name))).all()
    return [client_view(c) for c in clients]


@router.post(
    "/clients", response_model=ClientKey, status_code=status.HTTP_201_CREATED, responses=_CONFLICT
)
async def add_client(body: ClientIn, _who: Admin, runtime: Runtime) -> ClientKey:
    async with runtime.unit_of_work() as uow:
        client, key = await identity.create_client(
            uow, body.name, [r.value for r in body.roles], body.organization
        )
        await uow.commit()
    return ClientKey(client=client_view(client), api_key=key)


@router.post(
    "/clients/{client_id}/rotate", response_model=ClientKey, responses={**_NOT_FOUND, **_CONFLICT}
)
async def rotate_client(client_id: str, _who: Admin, runtime: Runtime) -> ClientKey:
    """A new key; the old key and every token it got stop working now."""
    async with runtime.unit_of_work() as uow:
        client = await identity.find_client(uow, client_id)
        key = await identity.rotate_client(uow, client)
        await uow.commit()
    return ClientKey(client=client_view(client), api_key=key)


@router.post("/clients/{client_id}/revoke", response_model=ClientView, responses=_NOT_FOUND)
async def revoke_client(client_id: str, _who: Admin, runtime: Runtime) -> ClientView:
    async with runtime.unit_of_work() as uow:
        client = await identity.find_client(uow, client_id)
        await identity.revoke_client(uow, client)
        await uow.commit()
    return client_view(client)
