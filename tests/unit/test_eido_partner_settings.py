"""The outbound EIDO client is off by default, and a half-configured one stops dispatch at start."""

from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from services.dispatch.main import DispatchSettings, create_app
from tests.support.inprocess import AUTH_SECRET, DATA_KEYS


def _settings(tmp_path: Path, **partner: Any) -> DispatchSettings:
    return DispatchSettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'd.db'}",
        auth_secret=AUTH_SECRET,
        data_keys=DATA_KEYS,
        **partner,
    )


def _workers(settings: DispatchSettings) -> list[str]:
    app = create_app(settings)
    return [name for name, _ in app.state.runtime.workers]


def test_off_by_default(tmp_path: Path) -> None:
    assert "eido_partner" not in _workers(_settings(tmp_path))


def test_configured_it_runs_as_a_worker(tmp_path: Path) -> None:
    settings = _settings(
        tmp_path,
        eido_partner_url="wss://cad.example-county.gov/eido",
        eido_partner_token=SecretStr("t"),
    )
    assert "eido_partner" in _workers(settings)


def test_a_url_without_a_token_or_policy_is_refused_at_start(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="CORESPOND_EIDO_PARTNER_TOKEN"):
        create_app(_settings(tmp_path, eido_partner_url="ws://127.0.0.1:9/eido"))
    with pytest.raises(ValueError, match="has no policy"):
        create_app(
            _settings(
                tmp_path,
                eido_partner_url="ws://127.0.0.1:9/eido",
                eido_partner_token=SecretStr("t"),
                eido_partner_jurisdiction="atlantis",
            )
        )


def test_only_websocket_urls(tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        _settings(tmp_path, eido_partner_url="http://cad.example-county.gov/eido")
