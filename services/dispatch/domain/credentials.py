"""Rules for credentials, free of storage and HTTP: passwords, lockout, API key format.

Passwords follow NIST SP 800-63B (length over composition rules; no reuse of
the username). Repeated failures lock the account for a while (CJIS: lock
after at most 5 consecutive invalid attempts). API keys are
``crk_<client id>.<secret>``: the id finds the client, the secret proves it.
"""

import re
from dataclasses import dataclass
from datetime import timedelta

MIN_PASSWORD = 12
MAX_PASSWORD = 256
LOCK_AFTER_FAILURES = 5
LOCKED_FOR = timedelta(minutes=15)
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")
# The name the CLI's operator token signs as (``corespond token``), and the names the
# services act under on timelines and in the audit trail: a person named so could
# pass their actions off as the operator's or the system's.
OPERATOR_NAME = "local-operator"
RESERVED_USERNAMES = frozenset({OPERATOR_NAME, "dispatch", "triage", "notify", "system"})
_KEY = re.compile(r"^crk_([a-f0-9]{32})\.([A-Za-z0-9_-]{40,})$")


def username_problem(username: str) -> str | None:
    if not _USERNAME.match(username):
        return "2 to 63 characters: lower-case letters, digits, '.', '_' or '-'"
    if username in RESERVED_USERNAMES:
        return f"{username!r} is reserved for corespond's own actions"
    return None


def password_problem(password: str, username: str) -> str | None:
    if len(password) < MIN_PASSWORD:
        return f"at least {MIN_PASSWORD} characters"
    if len(password) > MAX_PASSWORD:
        return f"at most {MAX_PASSWORD} characters"
    if username and username.lower() in password.lower():
        return "must not contain the username"
    if len(set(password)) < 5:
        return "too repetitive"
    return None


@dataclass(frozen=True)
class ApiKey:
    client_id: str
    secret: str


def parse_api_key(text: str) -> ApiKey | None:
    match = _KEY.match(text.strip())
    return ApiKey(match.group(1), match.group(2)) if match else None


def format_api_key(client_id: str, secret: str) -> str:
    return f"crk_{client_id}.{secret}"
