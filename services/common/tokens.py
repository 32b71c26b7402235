"""Short-lived signed access tokens (JWT, HS256) that every service verifies on its own.

dispatch signs them when a person signs in (password + TOTP) or a service
client exchanges its API key; triage and notify verify them with the same
secret (``CORESPOND_AUTH_SECRET``) without calling anyone. They live minutes,
so a stolen one is worth little; a disabled user's or revoked client's tokens
stop working at once through the revocation list every service keeps
(``services.common.revocations``).
"""

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt

ISSUER = "corespond"
ALGORITHM = "HS256"
MIN_SECRET_BYTES = 32


class SecretTooShort(ValueError):
    pass


@dataclass(frozen=True)
class Claims:
    """What a verified token says: who (id and name), what kind, which roles, since when."""

    subject_id: str
    name: str
    kind: str  # "user" | "client" | "mfa" (a half-signed-in user: password done, TOTP not)
    roles: tuple[str, ...]
    issued_at: datetime
    expires_at: datetime
    session_id: str | None = None


class TokenKeys:
    def __init__(self, secret: str) -> None:
        if len(secret.encode()) < MIN_SECRET_BYTES:
            raise SecretTooShort(
                f"CORESPOND_AUTH_SECRET must be at least {MIN_SECRET_BYTES} bytes "
                "(generate one: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        self._secret = secret

    def issue(
        self,
        *,
        subject_id: str,
        name: str,
        kind: str,
        roles: tuple[str, ...] | list[str],
        now: datetime,
        ttl: timedelta,
        session_id: str | None = None,
    ) -> str:
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "sub": subject_id,
            "name": name,
            "kind": kind,
            "roles": list(roles),
            "iat": int(now.timestamp()),
            "nbf": int(now.timestamp()) - 5,  # tolerate a little clock skew between hosts
            "exp": int((now + ttl).timestamp()),
            "jti": secrets.token_hex(8),
        }
        if session_id:
            claims["sid"] = session_id
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def mac(self, text: str) -> str:
        """A MAC of ``text`` under the secret (HMAC-SHA256, base64url): lets dispatch
        recognise a value it handed out (a refresh token) without storing it."""
        key = hashlib.sha256(b"corespond-mac\0" + self._secret.encode()).digest()
        digest = hmac.new(key, text.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def verify(self, token: str, now: datetime, *, kind: str | None = None) -> Claims | None:
        """The claims of a valid, unexpired token of ``kind`` (any but "mfa" if None)."""
        try:
            raw = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                # Time is checked below against our clock (tests move it), not the wall clock.
                options={
                    "require": ["exp", "iat", "sub", "iss"],
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
        except jwt.PyJWTError:
            return None
        if int(raw["exp"]) <= now.timestamp() or int(raw.get("nbf", 0)) > now.timestamp():
            return None
        token_kind = str(raw.get("kind", ""))
        if kind is None and token_kind not in ("user", "client"):
            return None
        if kind is not None and token_kind != kind:
            return None
        return Claims(
            subject_id=str(raw["sub"]),
            name=str(raw.get("name", raw["sub"])),
            kind=token_kind,
            roles=tuple(str(r) for r in raw.get("roles", [])),
            issued_at=datetime.fromtimestamp(int(raw["iat"]), tz=now.tzinfo),
            expires_at=datetime.fromtimestamp(int(raw["exp"]), tz=now.tzinfo),
            session_id=raw.get("sid"),
        )
