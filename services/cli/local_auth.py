"""The embedded stack's signing secret, and the operator token the CLI signs with it.

``corespond up`` keeps ``CORESPOND_AUTH_SECRET`` (or one generated on first run)
in the data folder, readable only by you. Whoever can read it is the operator
of that machine: ``corespond token`` and the CLI's own commands sign a
one-hour admin token for "local-operator" with it, which the audit trail shows
under that name. In production nobody holds the secret but the services:
people sign in (password + TOTP) and integrations exchange API keys.
"""

import os
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

from services.common.tokens import TokenKeys
from services.dispatch.domain.credentials import OPERATOR_NAME

SECRET_FILE = "auth-secret"  # noqa: S105 - a file name, not a secret
OPERATOR = OPERATOR_NAME  # reserved: no user can be created with this name


def auth_secret(data_dir: Path, *, create: bool = False) -> str | None:
    from_env = os.environ.get("CORESPOND_AUTH_SECRET")
    if from_env:
        return from_env
    path = data_dir / SECRET_FILE
    if path.exists():
        return path.read_text().strip()
    if not create:
        return None
    secret = secrets.token_urlsafe(48)
    data_dir.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(secret + "\n")
    return secret


def operator_token(secret: str, ttl: timedelta = timedelta(hours=1)) -> str:
    return TokenKeys(secret).issue(
        subject_id=OPERATOR,
        name=OPERATOR,
        kind="user",
        roles=["admin"],
        now=datetime.now(UTC),
        ttl=ttl,
    )
