"""Identity tables (dispatch owns them): people, their sign-in sessions, and service clients."""

from datetime import datetime

from sqlalchemy import JSON, DateTime, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from services.common.encrypted_columns import EncryptedText
from services.dispatch.adapters.models import Base


class UserRecord(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128))
    roles: Mapped[list[str]] = mapped_column(JSON)
    password_hash: Mapped[str] = mapped_column(String(256))
    # Base32 TOTP secret, sealed at rest like the caller's details: whoever reads it can
    # make codes. Confirmed once the user has entered a code from their app.
    totp_secret: Mapped[str | None] = mapped_column(EncryptedText, default=None)
    totp_confirmed: Mapped[bool] = mapped_column(default=False)
    # Set by an admin's password (a new account, a reset): the person chooses their own
    # before any session is opened (POST /v1/auth/password).
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The last TOTP time step accepted: a code is good once (no replay within its window).
    totp_last_step: Mapped[int | None] = mapped_column(Integer, default=None)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_sign_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class SessionRecord(Base):
    """A signed-in person: the refresh token (hashed) that keeps them signed in while active."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    refresh_hash: Mapped[str] = mapped_column(String(64), unique=True)
    source_ip: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    end_reason: Mapped[str | None] = mapped_column(String(32), default=None)


class ClientRecord(Base):
    """A service or integration (a CAD, a unit terminal) with a scoped, rotatable API key."""

    __tablename__ = "clients"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    roles: Mapped[list[str]] = mapped_column(JSON)
    # SHA-256 of the key's secret part: keys are 256 random bits, so a slow hash adds nothing.
    key_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    rotated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    # A treatment provider's system (role ``provider``) acts for this organisation only:
    # its name as the provider directory lists it (Task.owner).
    organization: Mapped[str | None] = mapped_column(String(120), default=None)
