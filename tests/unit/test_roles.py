"""Role checks: a principal passes a route's role set, admin passes all, tokens compare exactly."""

from pydantic import SecretStr

from services.common.auth import Principal, StaffRole, TokenAuthenticator


def test_a_role_outside_the_set_is_refused_and_admin_passes_everything() -> None:
    dispatchers = frozenset({StaffRole.DISPATCHER, StaffRole.SUPERVISOR})
    assert Principal("d", frozenset({StaffRole.DISPATCHER})).has_any(dispatchers)
    assert not Principal("a", frozenset({StaffRole.AUDITOR})).has_any(dispatchers)
    assert not Principal("nobody", frozenset()).has_any(dispatchers)
    assert Principal("root", frozenset({StaffRole.ADMIN})).has_any(dispatchers)


def test_bootstrap_token_is_admin_and_nothing_else_is() -> None:
    auth = TokenAuthenticator(SecretStr("s3cret-token"))
    principal = auth.authenticate("s3cret-token")
    assert principal is not None
    assert principal.roles == frozenset({StaffRole.ADMIN})
    for wrong in ("s3cret-toke", "s3cret-token ", "", "S3CRET-TOKEN"):
        assert auth.authenticate(wrong) is None


def test_without_a_configured_token_nobody_gets_in() -> None:
    assert TokenAuthenticator(None).authenticate("") is None
    assert TokenAuthenticator(None).authenticate("anything") is None
