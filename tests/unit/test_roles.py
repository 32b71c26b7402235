"""Role checks and tokens: a principal passes a route's role set; tokens are checked whole."""

from datetime import UTC, datetime, timedelta

import pytest

from services.common.auth import Principal, StaffRole
from services.common.tokens import SecretTooShort, TokenKeys

SECRET = "unit-test-secret-0123456789-abcdefghijklmnop"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def test_a_role_outside_the_set_is_refused_and_admin_passes_all_but_exclusive_sets() -> None:
    dispatchers = frozenset({StaffRole.DISPATCHER, StaffRole.SUPERVISOR})
    assert Principal("d", frozenset({StaffRole.DISPATCHER})).has_any(dispatchers)
    assert not Principal("a", frozenset({StaffRole.AUDITOR})).has_any(dispatchers)
    assert not Principal("nobody", frozenset()).has_any(dispatchers)
    root = Principal("root", frozenset({StaffRole.ADMIN}))
    assert root.has_any(dispatchers)
    assert not root.has_any(frozenset({StaffRole.AUDITOR}), admin_passes=False)


def _issue(keys: TokenKeys, kind: str = "user", now: datetime = NOW) -> str:
    return keys.issue(
        subject_id="u1",
        name="casey",
        kind=kind,
        roles=["dispatcher"],
        now=now,
        ttl=timedelta(minutes=10),
        session_id="s1",
    )


def test_a_token_says_who_and_which_roles_until_it_expires() -> None:
    keys = TokenKeys(SECRET)
    token = _issue(keys)
    claims = keys.verify(token, NOW + timedelta(minutes=9))
    assert claims is not None
    assert (claims.subject_id, claims.name, claims.roles, claims.session_id) == (
        "u1",
        "casey",
        ("dispatcher",),
        "s1",
    )
    assert keys.verify(token, NOW + timedelta(minutes=10)) is None


def test_tampered_forged_and_half_signed_in_tokens_are_refused() -> None:
    keys = TokenKeys(SECRET)
    token = _issue(keys)
    head, body, signature = token.split(".")
    assert keys.verify(f"{head}.{body}x.{signature}", NOW) is None
    assert keys.verify(_issue(TokenKeys(SECRET[::-1])), NOW) is None
    mfa = _issue(keys, kind="mfa")
    assert keys.verify(mfa, NOW) is None  # not an access token
    assert keys.verify(mfa, NOW, kind="mfa") is not None
    for junk in ("", "a.b.c", "Bearer x"):
        assert keys.verify(junk, NOW) is None


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(SecretTooShort):
        TokenKeys("too-short")
