"""Typed service settings from the environment (prefix ``CORESPOND_``).

The standard names ``KAFKA_BOOTSTRAP_SERVERS`` and ``DATABASE_URL`` are read as
well, because that is what operators and platforms set. Each service process
reads its own ``DATABASE_URL``; ``corespond up`` gives each a SQLite file under
the data folder.
"""

import json
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Settings every service shares. Subclassed per service for its own knobs."""

    model_config = SettingsConfigDict(
        env_prefix="CORESPOND_", extra="ignore", populate_by_name=True
    )

    service_name: str = "corespond"
    host: str = "127.0.0.1"
    port: int = 8000

    data_dir: Path = Path(".corespond")
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "CORESPOND_DATABASE_URL")
    )
    # PostgreSQL only: the schema this service's tables live in (default: its name).
    database_schema: str | None = None
    # At start, "auto" upgrades the schema to head and "check" refuses to run unless
    # it is there (services/common/migrations.py). Unset: auto on SQLite (embedded),
    # check elsewhere, where `corespond db upgrade` runs before the services.
    db_migrate: Literal["auto", "check"] | None = None

    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092",
        validation_alias=AliasChoices(
            "KAFKA_BOOTSTRAP_SERVERS", "CORESPOND_KAFKA_BOOTSTRAP_SERVERS"
        ),
    )
    # On for Apache Kafka. The embedded Tansu answers InitProducerId with an
    # unknown error, so `corespond up` and the tests turn it off there; the inbox
    # makes duplicates harmless either way.
    kafka_enable_idempotence: bool = True
    kafka_send_timeout_s: float = 10.0
    kafka_topic_partitions: int = 6
    kafka_replication_factor: int = 1
    kafka_security_protocol: str = "PLAINTEXT"
    # Tansu holds a JoinGroup for half the session timeout before answering, so
    # the embedded stack uses 3 s (a consumer joins in 1.5 s instead of 5 s).
    kafka_session_timeout_ms: int = 10_000
    kafka_heartbeat_interval_ms: int = 1_000

    consumer_max_attempts: int = 5
    consumer_retry_backoff_s: float = 0.2
    # /healthz fails when the consumer loop has not polled for this long.
    consumer_stall_after_s: float = 60.0
    # /healthz fails when the consumer restarted this many times in a row without
    # getting through a poll (a record or a broker that crashes it every time).
    consumer_restart_limit: int = Field(default=3, ge=1)
    # /healthz fails when the consumer is this many records behind the broker.
    consumer_max_lag: int = Field(default=10_000, ge=1)

    # How often a service that waits for answers looks for work without one
    # (end-to-end reconciliation, services/common/reconcile.py).
    reconcile_interval_s: float = Field(default=5.0, gt=0)
    # How often unanswered work is asked for again before it is given up on
    # with a supervisor alert.
    reconcile_max_resends: int = Field(default=5, ge=1)
    # /healthz fails when work has waited this long for its answer.
    work_stuck_after_s: float = Field(default=300.0, gt=0)

    outbox_batch_size: int = 200
    outbox_poll_interval_s: float = 0.5

    # Signs (dispatch) and verifies (every service) access tokens; the same value everywhere.
    auth_secret: SecretStr | None = None
    access_token_ttl_s: int = Field(default=600, ge=60, le=3600)
    # Master keys for personal fields at rest: comma-separated Fernet keys, the
    # first encrypts and all decrypt (services/common/field_crypto.py). Required.
    data_keys: SecretStr | None = None
    # Dispatch and triage purge an incident's personal fields this long after it
    # closed. At least a week: a post-overdose follow-up (24-72 h after closing)
    # still needs the place it opens at.
    incident_retention_days: int = Field(default=400, ge=7)

    # Tracing (services/common/telemetry.py): off unless an OTLP/HTTP endpoint is
    # set, read under the standard OpenTelemetry names.
    otel_exporter_otlp_traces_endpoint: str | None = Field(
        default=None, validation_alias=AliasChoices("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None, validation_alias=AliasChoices("OTEL_EXPORTER_OTLP_ENDPOINT")
    )
    otel_service_name: str | None = Field(
        default=None, validation_alias=AliasChoices("OTEL_SERVICE_NAME")
    )
    otel_sdk_disabled: bool = Field(
        default=False, validation_alias=AliasChoices("OTEL_SDK_DISABLED")
    )

    log_level: str = "INFO"
    log_json: bool = True

    # Browser origins (``https://console.example.org``) allowed to read API
    # responses cross-origin; none by default. A JSON list or comma-separated.
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Larger request bodies are refused with 413 before the app reads them.
    max_body_bytes: int = Field(default=1024 * 1024, gt=0)

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origins_from_text(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            return json.loads(text) if text.startswith("[") else text.split(",")
        return value

    @field_validator("cors_origins")
    @classmethod
    def _origins_are_exact(cls, origins: list[str]) -> list[str]:
        # A browser sends its origin as scheme://host[:port]; anything else
        # (a path, a trailing slash, "*") would never match or would match everyone.
        cleaned = [o.strip() for o in origins if o.strip()]
        for origin in cleaned:
            parts = urlsplit(origin)
            exact = f"{parts.scheme}://{parts.netloc}"
            if parts.scheme not in ("http", "https") or not parts.netloc or origin != exact:
                raise ValueError(f"{origin!r} is not an origin like https://console.example.org")
        return cleaned

    @field_validator(
        "otel_exporter_otlp_traces_endpoint", "otel_exporter_otlp_endpoint", mode="before"
    )
    @classmethod
    def _otlp_endpoint_is_a_url(cls, value: object) -> object:
        # Set but empty means unset (the OpenTelemetry convention); anything else
        # must be an http(s) URL, or the exporter would fail on every export.
        if isinstance(value, str):
            if not value.strip():
                return None
            parts = urlsplit(value.strip())
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(f"{value!r} is not an http(s) URL like http://collector:4318")
            return value.strip()
        return value

    def resolved_database_url(self) -> str:
        """The SQLAlchemy async URL, defaulting to a SQLite file in the data folder."""
        if not self.database_url:
            return f"sqlite+aiosqlite:///{self.data_dir / (self.service_name + '.db')}"
        url = self.database_url
        for plain in ("postgresql://", "postgres://"):
            if url.startswith(plain):
                return "postgresql+asyncpg://" + url[len(plain) :]
        if url.startswith("sqlite:///"):
            return "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
        return url
