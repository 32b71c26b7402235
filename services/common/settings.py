"""Typed service settings from the environment (prefix ``CORESPOND_``).

The standard names ``KAFKA_BOOTSTRAP_SERVERS`` and ``DATABASE_URL`` are read as
well, because that is what operators and platforms set. Each service process
reads its own ``DATABASE_URL``; ``corespond up`` gives each a SQLite file under
the data folder.
"""

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


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

    outbox_batch_size: int = 200
    outbox_poll_interval_s: float = 0.5

    bootstrap_token: SecretStr | None = None
    # Master keys for personal fields at rest: comma-separated Fernet keys, the
    # first encrypts and all decrypt (services/common/field_crypto.py). Required.
    data_keys: SecretStr | None = None
    # Dispatch and triage purge an incident's personal fields this long after it
    # closed. At least a week: a post-overdose follow-up (24-72 h after closing)
    # still needs the place it opens at.
    incident_retention_days: int = Field(default=400, ge=7)

    log_level: str = "INFO"
    log_json: bool = True

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
