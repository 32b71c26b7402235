"""People and service clients: accounts, sign-in with password and TOTP, sessions, API keys.

Passwords are hashed with Argon2id (argon2-cffi); TOTP codes are checked with
pyotp and each is accepted once. Repeated failures lock the account for a
while. A session lives while it is used: its refresh token expires after
``idle`` without use (signed out after inactivity) and at the latest after
``absolute``. Disabling a user, resetting their password or second factor,
signing out, and rotating or revoking an API key revoke the tokens already
issued, in every service (``services.common.revocations``). Every sign-in,
failure and lockout is audited.

Refresh tokens rotate: each refresh hands out a new one and uses the old one
up. A refresh token names its session and carries a MAC, so one that was
already used is recognised as ours: its reuse means it was copied, and ends
the whole session (every refresh and access token of it), as OAuth 2.0
Security BCP (RFC 9700, 4.14) asks. A service client's access token gets a
session id of its own, so signing out revokes that token.
"""

import asyncio
import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update

from services.common import audit, revocations
from services.common.clock import as_utc, new_id
from services.common.outbox import UnitOfWork
from services.common.tokens import Claims, TokenKeys
from services.dispatch.adapters.identity_models import ClientRecord, SessionRecord, UserRecord
from services.dispatch.app.throttle import UnknownAccounts
from services.dispatch.domain.credentials import (
    LOCK_AFTER_FAILURES,
    LOCKED_FOR,
    format_api_key,
    parse_api_key,
)
from services.dispatch.domain.errors import Conflict, DispatchError, NotFound

_hasher = PasswordHasher()  # argon2-cffi's defaults: Argon2id, RFC 9106 low-memory profile


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the username is unknown, so a wrong name costs as long as a
    wrong password and response times do not tell which names exist. Made on first use:
    at import it cost every process (each CLI command) a third of a second."""
    return _hasher.hash(secrets.token_urlsafe(16))


MFA_TTL = timedelta(minutes=5)
ISSUER = "corespond"


class SignInRefused(DispatchError):
    """Wrong name, password or code, or a disabled account: one message for all (401)."""

    def __init__(self, message: str = "the username, password or code is not right") -> None:
        super().__init__(message)


class AccountLocked(DispatchError):
    def __init__(self, until: datetime) -> None:
        super().__init__(
            f"too many failed sign-ins: locked until {until.isoformat(timespec='seconds')}; "
            "an admin can unlock it sooner"
        )
        self.until = until


class SignedOut(DispatchError):
    """The refresh token is unknown, used up, expired, or the session ended (401)."""


class AccountNotFound(NotFound):
    pass


@dataclass(frozen=True)
class SessionPolicy:
    access_ttl: timedelta
    idle: timedelta = timedelta(minutes=30)
    absolute: timedelta = timedelta(hours=12)


@dataclass(frozen=True)
class Tokens:
    access_token: str
    expires_in: int
    refresh_token: str | None = None


@dataclass(frozen=True)
class PasswordStep:
    """Password accepted: the short-lived token for the TOTP step, and enrolment if new.
    With ``change_required`` (an admin's password), neither: the person must choose a
    password of their own first (``change_password``)."""

    mfa_token: str | None
    enrol_uri: str | None
    change_required: bool = False


class NoChangePending(Conflict):
    """Only a password an admin set is changed this way (409); a person's own password
    is changed by an admin's reset."""


async def hash_password(password: str) -> str:
    # Argon2 is deliberately slow: keep it off the event loop.
    return await asyncio.to_thread(_hasher.hash, password)


async def _password_matches(stored: str, password: str) -> bool:
    def check() -> bool:
        try:
            return _hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --- accounts -------------------------------------------------------------------------


async def create_user(
    uow: UnitOfWork, username: str, display_name: str, roles: list[str], password: str
) -> UserRecord:
    if await uow.session.scalar(select(UserRecord.id).where(UserRecord.username == username)):
        raise Conflict(f"a user named {username!r} already exists")
    now = uow.clock.now()
    user = UserRecord(
        id=new_id(),
        username=username,
        display_name=display_name,
        roles=sorted(set(roles)),
        password_hash=await hash_password(password),
        totp_confirmed=False,
        must_change_password=True,  # an admin chose it: the person chooses their own
        failed_attempts=0,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(user)
    return user


async def find_user(uow: UnitOfWork, user_id_or_name: str) -> UserRecord:
    user = await uow.session.get(UserRecord, user_id_or_name) or await uow.session.scalar(
        select(UserRecord).where(UserRecord.username == user_id_or_name)
    )
    if user is None:
        raise AccountNotFound(f"no user {user_id_or_name!r}")
    return user


async def _end_sessions(uow: UnitOfWork, user_id: str, reason: str) -> None:
    now = uow.clock.now()
    await uow.session.execute(
        update(SessionRecord)
        .where(SessionRecord.user_id == user_id, SessionRecord.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason)
    )
    await revocations.revoke(uow, f"user:{user_id}", reason)


async def disable_user(uow: UnitOfWork, user: UserRecord) -> None:
    if user.disabled_at is None:
        user.disabled_at = user.updated_at = uow.clock.now()
    await _end_sessions(uow, user.id, "disabled")


async def enable_user(uow: UnitOfWork, user: UserRecord) -> None:
    user.disabled_at = None
    user.failed_attempts = 0
    user.locked_until = None
    user.updated_at = uow.clock.now()


async def reset_mfa(uow: UnitOfWork, user: UserRecord) -> None:
    """The next sign-in enrols a new authenticator; every current session ends."""
    user.totp_secret = None
    user.totp_confirmed = False
    user.totp_last_step = None
    user.updated_at = uow.clock.now()
    await _end_sessions(uow, user.id, "mfa_reset")


async def set_password(uow: UnitOfWork, user: UserRecord, password: str) -> None:
    """An admin's reset: the person must choose their own at the next sign-in."""
    user.password_hash = await hash_password(password)
    user.must_change_password = True
    user.failed_attempts = 0
    user.locked_until = None
    user.updated_at = uow.clock.now()
    await _end_sessions(uow, user.id, "password_reset")


# --- signing in ------------------------------------------------------------------------


def _audit_auth(
    uow: UnitOfWork, who: str, kind: str, action: str, outcome: str, ip: str | None
) -> None:
    audit.record(
        uow,
        service="dispatch",
        actor=who,
        actor_kind=kind,
        action=action,
        outcome=outcome,
        source_ip=ip,
    )


async def _failed(uow: UnitOfWork, user: UserRecord | None, who: str, ip: str | None) -> None:
    """Count a failure; lock at the limit. The caller commits, then refuses."""
    _audit_auth(uow, who, "user", "auth.sign_in_failed", "refused", ip)
    if user is None:
        return
    now = uow.clock.now()
    user.failed_attempts += 1
    user.updated_at = now
    if user.failed_attempts >= LOCK_AFTER_FAILURES:
        user.locked_until = now + LOCKED_FOR
        user.failed_attempts = 0
        _audit_auth(uow, who, "user", "auth.locked", f"until {user.locked_until.isoformat()}", ip)


def _locked(user: UserRecord, now: datetime) -> datetime | None:
    if user.locked_until is not None and as_utc(user.locked_until) > now:
        return as_utc(user.locked_until)
    return None


async def check_password(
    uow: UnitOfWork,
    keys: TokenKeys,
    username: str,
    password: str,
    ip: str | None,
    unknown: UnknownAccounts,
) -> PasswordStep | SignInRefused | AccountLocked:
    """Step one. Returns the refusal instead of raising so the caller commits the failure.

    A username that does not exist fails, locks and answers exactly as a real one
    (``unknown`` keeps its count), so 401 and 423 say nothing about which names exist.
    """
    now = uow.clock.now()
    user = await uow.session.scalar(select(UserRecord).where(UserRecord.username == username))
    until = _locked(user, now) if user is not None else unknown.locked_until(username, now)
    if until is not None:
        _audit_auth(uow, username, "user", "auth.sign_in_while_locked", "refused", ip)
        return AccountLocked(until)
    matches = await _password_matches(user.password_hash if user else _dummy_hash(), password)
    if user is None or not matches or user.disabled_at is not None:
        await _failed(uow, user, username, ip)
        if user is None and (until := unknown.failed(username, now)) is not None:
            _audit_auth(uow, username, "user", "auth.locked", f"until {until.isoformat()}", ip)
            return AccountLocked(until)
        if user is not None and (until := _locked(user, now)) is not None:
            return AccountLocked(until)
        return SignInRefused()
    if user.must_change_password:
        # No second step and no session before the person has a password of their own.
        _audit_auth(uow, username, "user", "auth.password_change_required", "asked", ip)
        return PasswordStep(mfa_token=None, enrol_uri=None, change_required=True)
    enrol_uri = None
    if not user.totp_confirmed:
        if user.totp_secret is None:
            user.totp_secret = pyotp.random_base32()
        enrol_uri = pyotp.TOTP(user.totp_secret).provisioning_uri(
            name=user.username, issuer_name=ISSUER
        )
    mfa_token = keys.issue(
        subject_id=user.id, name=user.username, kind="mfa", roles=[], now=now, ttl=MFA_TTL
    )
    return PasswordStep(mfa_token=mfa_token, enrol_uri=enrol_uri)


async def change_password(
    uow: UnitOfWork,
    keys: TokenKeys,
    username: str,
    password: str,
    new_password: str,
    ip: str | None,
    unknown: UnknownAccounts,
) -> PasswordStep | SignInRefused | AccountLocked:
    """The first sign-in after an admin set the password: the current one (checked, counted
    and locked as a sign-in) for one of the person's own; then signing in goes on as usual."""
    outcome = await check_password(uow, keys, username, password, ip, unknown)
    if not isinstance(outcome, PasswordStep):
        return outcome
    if not outcome.change_required:
        raise NoChangePending("no password change is pending for this account")
    user = await uow.session.scalar(select(UserRecord).where(UserRecord.username == username))
    assert user is not None  # the password matched
    user.password_hash = await hash_password(new_password)
    user.must_change_password = False
    user.failed_attempts = 0
    user.updated_at = uow.clock.now()
    _audit_auth(uow, username, "user", "auth.password_changed", "changed", ip)
    return outcome


async def check_code(
    uow: UnitOfWork,
    keys: TokenKeys,
    policy: SessionPolicy,
    mfa: Claims,
    code: str,
    ip: str | None,
) -> Tokens | SignInRefused | AccountLocked:
    """Step two: a current TOTP code (each accepted once) opens a session."""
    now = uow.clock.now()
    user = await uow.session.get(UserRecord, mfa.subject_id)
    if user is None or user.disabled_at is not None or user.totp_secret is None:
        return SignInRefused()
    if (until := _locked(user, now)) is not None:
        return AccountLocked(until)
    totp = pyotp.TOTP(user.totp_secret)
    step = _matching_step(totp, code.strip(), now)
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        await _failed(uow, user, user.username, ip)
        if (until := _locked(user, now)) is not None:
            return AccountLocked(until)
        return SignInRefused()
    user.totp_last_step = step
    user.totp_confirmed = True
    user.failed_attempts = 0
    user.last_sign_in_at = user.updated_at = now
    session_id = new_id()
    refresh = _new_refresh(keys, session_id)
    session = SessionRecord(
        id=session_id,
        user_id=user.id,
        refresh_hash=_sha256(refresh),
        source_ip=ip,
        created_at=now,
        last_used_at=now,
        expires_at=now + policy.absolute,
    )
    uow.session.add(session)
    _audit_auth(uow, user.username, "user", "auth.signed_in", "ok", ip)
    return Tokens(_access(keys, policy, user, session.id, now), _ttl(policy), refresh)


def _matching_step(totp: pyotp.TOTP, code: str, now: datetime) -> int | None:
    """The time step whose code this is (this one or the one either side, for clock drift)."""
    if not (code.isdigit() and len(code) == totp.digits):
        return None
    current = totp.timecode(now)
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _ttl(policy: SessionPolicy) -> int:
    return int(policy.access_ttl.total_seconds())


def _access(
    keys: TokenKeys, policy: SessionPolicy, user: UserRecord, session_id: str, now: datetime
) -> str:
    return keys.issue(
        subject_id=user.id,
        name=user.username,
        kind="user",
        roles=user.roles,
        now=now,
        ttl=policy.access_ttl,
        session_id=session_id,
    )


def _new_refresh(keys: TokenKeys, session_id: str) -> str:
    """``<session id>.<random>.<MAC>``: only its hash is stored, as before."""
    nonce = secrets.token_urlsafe(32)
    return f"{session_id}.{nonce}.{keys.mac(f'refresh:{session_id}.{nonce}')}"


def _issued_for(keys: TokenKeys, refresh_token: str) -> str | None:
    """The session a refresh token was issued for, if dispatch issued it (used up or not)."""
    parts = refresh_token.split(".")
    if len(parts) != 3:
        return None  # unknown, or from before tokens named their session
    session_id, nonce, mac = parts
    if not hmac.compare_digest(mac, keys.mac(f"refresh:{session_id}.{nonce}")):
        return None
    return session_id


async def _end_reused_session(uow: UnitOfWork, keys: TokenKeys, refresh_token: str) -> None:
    """A used-up refresh token came back: someone holds a copy. End its whole session."""
    session_id = _issued_for(keys, refresh_token)
    session = await uow.session.get(SessionRecord, session_id) if session_id else None
    if session is None or session.ended_at is not None:
        return
    session.ended_at, session.end_reason = uow.clock.now(), "refresh_reused"
    await revocations.revoke(uow, f"session:{session.id}", "refresh_reused")
    user = await uow.session.get(UserRecord, session.user_id)
    who = user.username if user else session.user_id
    _audit_auth(uow, who, "user", "auth.refresh_reused", "session ended", session.source_ip)
    await uow.commit()


async def refresh(
    uow: UnitOfWork, keys: TokenKeys, policy: SessionPolicy, refresh_token: str
) -> Tokens:
    """A new access token and a new refresh token (the old one is used up)."""
    now = uow.clock.now()
    session = await uow.session.scalar(
        select(SessionRecord).where(SessionRecord.refresh_hash == _sha256(refresh_token))
    )
    if session is None:
        await _end_reused_session(uow, keys, refresh_token)
        raise SignedOut("signed out: sign in again")
    if session.ended_at is not None:
        raise SignedOut("signed out: sign in again")
    user = await uow.session.get(UserRecord, session.user_id)
    reason = None
    if as_utc(session.last_used_at) + policy.idle <= now:
        reason = "inactivity"
    elif as_utc(session.expires_at) <= now:
        reason = "session_expired"
    elif user is None or user.disabled_at is not None:
        reason = "disabled"
    if reason is not None or user is None:
        session.ended_at, session.end_reason = now, reason
        await uow.commit()
        raise SignedOut(f"signed out ({reason}): sign in again")
    new_refresh = _new_refresh(keys, session.id)
    session.refresh_hash = _sha256(new_refresh)
    session.last_used_at = now
    return Tokens(_access(keys, policy, user, session.id, now), _ttl(policy), new_refresh)


async def sign_out(
    uow: UnitOfWork,
    session_id: str | None,
    who: str,
    ip: str | None,
    *,
    kind: str = "user",
    subject_id: str = "",
) -> None:
    """End the caller's session: its tokens stop working in every service.

    A client's token is its own session (see ``exchange_api_key``); one issued before
    tokens carried that has none, so signing out revokes every token of that client
    issued so far (it exchanges its key again), rather than answer 204 and change nothing.
    """
    if session_id is None:
        if kind == "client" and subject_id:
            await revocations.revoke(uow, f"client:{subject_id}", "signed_out")
            _audit_auth(uow, who, kind, "auth.signed_out", "ok", ip)
        return
    session = await uow.session.get(SessionRecord, session_id)
    if session is not None and session.ended_at is None:
        session.ended_at, session.end_reason = uow.clock.now(), "signed_out"
    await revocations.revoke(uow, f"session:{session_id}", "signed_out")
    _audit_auth(uow, who, kind, "auth.signed_out", "ok", ip)


# --- service clients ------------------------------------------------------------------


async def create_client(
    uow: UnitOfWork, name: str, roles: list[str], organization: str | None = None
) -> tuple[ClientRecord, str]:
    """A new client and its API key (shown once; only its hash is kept). ``organization``: the
    provider organisation a ``provider`` client acts for."""
    if await uow.session.scalar(select(ClientRecord.id).where(ClientRecord.name == name)):
        raise Conflict(f"a client named {name!r} already exists")
    client_id = secrets.token_hex(16)
    secret = secrets.token_urlsafe(32)
    client = ClientRecord(
        id=client_id,
        name=name,
        roles=sorted(set(roles)),
        key_hash=_sha256(secret),
        created_at=uow.clock.now(),
        organization=organization,
    )
    uow.session.add(client)
    return client, format_api_key(client_id, secret)


async def find_client(uow: UnitOfWork, client_id_or_name: str) -> ClientRecord:
    client = await uow.session.get(ClientRecord, client_id_or_name) or await uow.session.scalar(
        select(ClientRecord).where(ClientRecord.name == client_id_or_name)
    )
    if client is None:
        raise AccountNotFound(f"no client {client_id_or_name!r}")
    return client


async def rotate_client(uow: UnitOfWork, client: ClientRecord) -> str:
    """A new key; the old one and every token it got stop working now."""
    if client.revoked_at is not None:
        raise Conflict(f"client {client.name!r} is revoked")
    secret = secrets.token_urlsafe(32)
    client.key_hash = _sha256(secret)
    client.rotated_at = uow.clock.now()
    await revocations.revoke(uow, f"client:{client.id}", "key_rotated")
    return format_api_key(client.id, secret)


async def revoke_client(uow: UnitOfWork, client: ClientRecord) -> None:
    if client.revoked_at is None:
        client.revoked_at = uow.clock.now()
    await revocations.revoke(uow, f"client:{client.id}", "revoked")


async def exchange_api_key(
    uow: UnitOfWork, keys: TokenKeys, policy: SessionPolicy, api_key: str, ip: str | None
) -> Tokens | SignInRefused:
    now = uow.clock.now()
    parsed = parse_api_key(api_key)
    client = await uow.session.get(ClientRecord, parsed.client_id) if parsed else None
    if (
        parsed is None
        or client is None
        or client.revoked_at is not None
        or not hmac.compare_digest(client.key_hash, _sha256(parsed.secret))
    ):
        who = client.name if client else "unknown client"
        _audit_auth(uow, who, "client", "auth.api_key_refused", "refused", ip)
        return SignInRefused("the API key is not valid")
    client.last_used_at = now
    token = keys.issue(
        subject_id=client.id,
        name=f"client:{client.name}",
        kind="client",
        roles=client.roles,
        now=now,
        ttl=policy.access_ttl,
        # Its own session id, so this token alone can be signed out (revoked).
        session_id="client-" + new_id(),
    )
    return Tokens(token, _ttl(policy))
