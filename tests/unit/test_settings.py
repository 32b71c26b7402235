"""Settings come from the environment, with the standard names operators set."""

import pytest

from services.common.settings import ServiceSettings


def test_standard_names_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka-1:9092,kafka-2:9092")
    monkeypatch.setenv("DATABASE_URL", "postgresql://corespond@db/corespond")
    monkeypatch.setenv("CORESPOND_AUTH_SECRET", "s3cret")
    monkeypatch.setenv("CORESPOND_KAFKA_ENABLE_IDEMPOTENCE", "false")
    settings = ServiceSettings()
    assert settings.kafka_bootstrap_servers == "kafka-1:9092,kafka-2:9092"
    assert settings.resolved_database_url() == "postgresql+asyncpg://corespond@db/corespond"
    assert settings.auth_secret is not None
    assert settings.auth_secret.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(settings)
    assert settings.kafka_enable_idempotence is False


def test_embedded_default_is_sqlite_in_the_data_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    settings = ServiceSettings(service_name="triage")
    assert settings.resolved_database_url() == "sqlite+aiosqlite:///.corespond/triage.db"
    assert settings.kafka_enable_idempotence is True  # production default


def test_no_cors_origin_and_a_1_mib_body_limit_by_default() -> None:
    settings = ServiceSettings()
    assert settings.cors_origins == []
    assert settings.max_body_bytes == 1024 * 1024


@pytest.mark.parametrize(
    "value",
    [
        "https://console.example.org,http://127.0.0.1:5173",
        '["https://console.example.org", "http://127.0.0.1:5173"]',
    ],
)
def test_cors_origins_are_a_list_or_comma_separated(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("CORESPOND_CORS_ORIGINS", value)
    monkeypatch.setenv("CORESPOND_MAX_BODY_BYTES", "65536")
    settings = ServiceSettings()
    assert settings.cors_origins == ["https://console.example.org", "http://127.0.0.1:5173"]
    assert settings.max_body_bytes == 65536


@pytest.mark.parametrize(
    "origin", ["*", "https://console.example.org/", "https://x.org/console", "console.example.org"]
)
def test_a_cors_origin_must_be_exactly_an_origin(
    monkeypatch: pytest.MonkeyPatch, origin: str
) -> None:
    monkeypatch.setenv("CORESPOND_CORS_ORIGINS", origin)
    with pytest.raises(ValueError, match="is not an origin"):
        ServiceSettings()
