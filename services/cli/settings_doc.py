"""The tables of deploy/README.md, generated from the code: every environment variable
every service reads (from the settings classes) and the topic layout (from
``services.common.topics``).

deploy/README.md carries each table between two markers; a test regenerates them
and compares, so the guide cannot drift from the code. A new setting (a field on
``ServiceSettings`` or a service's subclass) appears here with no change to this
module; its description is the comment written above the field.

    python -m services.cli.settings_doc            # print the tables
    python -m services.cli.settings_doc --write    # update deploy/README.md
    python -m services.cli.settings_doc --check    # exit 1 when it is out of date
"""

import inspect
import re
from dataclasses import dataclass
from pathlib import Path

import click
from pydantic import AliasChoices, AliasPath, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from services.common.settings import ServiceSettings
from services.common.topics import CONSUMER_GROUPS, DLQ_PREFIX, every_topic
from services.dispatch.main import DispatchSettings
from services.notify.main import NotifySettings
from services.triage.main import TriageSettings

SERVICE_SETTINGS: dict[str, type[ServiceSettings]] = {
    "triage": TriageSettings,
    "dispatch": DispatchSettings,
    "notify": NotifySettings,
}

GUIDE = Path("deploy/README.md")
REGENERATE = "python -m services.cli.settings_doc --write"


# What a setting is, for the fields declared without a comment above them. A comment
# in the settings class wins over these; a field in neither gets an empty cell.
NOTES = {
    "service_name": "Names the service in logs, client ids and the default database schema. "
    "Leave the default.",
    "host": "Interface to listen on; `0.0.0.0` in containers (the image sets it).",
    "port": "HTTP port (the image sets 8000 for every service: one per container).",
    "data_dir": "Local folder for SQLite files (`corespond up`); unused with PostgreSQL.",
    "database_url": "SQLAlchemy URL; `postgresql://user:password@host/db` in production "
    "(a secret when it carries the password).",
    "kafka_bootstrap_servers": "Kafka brokers, comma-separated.",
    "kafka_send_timeout_s": "Bound on every send to Kafka and on admin requests.",
    "kafka_topic_partitions": "Partitions of each topic created (by the services or "
    "`corespond topics create`); the most replicas of one service that get work.",
    "kafka_replication_factor": "Replicas of each topic created; 3 on a production cluster.",
    "kafka_security_protocol": "`PLAINTEXT` or `SSL`/`SASL_SSL` as the cluster requires.",
    "kafka_heartbeat_interval_ms": "Consumer heartbeat; well under the session timeout.",
    "consumer_max_attempts": "Handler attempts before a message goes to the dead-letter topic.",
    "consumer_retry_backoff_s": "Pause between those attempts (doubling).",
    "outbox_batch_size": "Outbox rows relayed to Kafka per batch.",
    "outbox_poll_interval_s": "How often the relay looks for rows it was not woken for.",
    "access_token_ttl_s": "Lifetime of an access token (60-3600 s).",
    "log_level": "Python log level.",
    "log_json": "One JSON object per log line (for the log shipper); false for humans.",
    "timer_poll_interval_s": "How often escalation timers are checked.",
    "session_max_hours": "Longest a console session lives, used or not.",
    "notify_public_url": "Where the console reaches notify (see the previous row).",
    "sms_backend": "`twilio` sends SMS; `console` only records them (demo, tests).",
    "public_base_url": "Public URL of notify: Twilio's status callbacks and the links in SMS.",
    "twilio_account_sid": "Twilio account.",
    "twilio_auth_token": "Twilio credential; also verifies the signature of Twilio's webhooks.",
    "twilio_messaging_service_sid": "Twilio messaging service to send from (or a number).",
    "twilio_from_number": "Number to send from when there is no messaging service.",
    # Tracing (services/common/telemetry.py, issue 9): notes ready for when it lands.
    "otel_exporter_otlp_endpoint": "OTLP/HTTP collector base URL; spans go to "
    "`<it>/v1/traces` unless the traces endpoint is set.",
    "otel_service_name": "Service name on spans (default `corespond-<service>`).",
    "otel_sdk_disabled": "`true` turns tracing off even when an endpoint is set.",
}


@dataclass(frozen=True)
class Variable:
    """One setting: the names it is read from, who reads it, its defaults and what it is."""

    names: tuple[str, ...]
    services: tuple[str, ...]
    defaults: dict[str, str]  # service → rendered default
    secret: bool
    description: str


def env_names(cls: type[ServiceSettings], name: str, field: FieldInfo) -> tuple[str, ...]:
    """The environment variables pydantic-settings reads ``name`` from, in priority order."""
    alias = field.validation_alias
    if isinstance(alias, str):
        return (alias.upper(),)
    if isinstance(alias, AliasChoices):
        return tuple(c.upper() for c in alias.choices if isinstance(c, str))
    if isinstance(alias, AliasPath):
        return (str(alias.path[0]).upper(),)
    prefix = str(cls.model_config.get("env_prefix", ""))
    return ((prefix + name).upper(),)


def is_secret(field: FieldInfo) -> bool:
    return "SecretStr" in repr(field.annotation) or field.annotation is SecretStr


def render_default(field: FieldInfo) -> str:
    if field.default_factory is not None:
        value = field.default_factory()  # type: ignore[call-arg]
    elif field.default is PydanticUndefined:
        return "(required)"
    else:
        value = field.default
    if value is None:
        return "(unset)"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, Path):
        if value.is_absolute():
            # A path inside the source tree (policy files) reads the same on every machine.
            root = Path(__file__).resolve().parents[2]
            if value.is_relative_to(root):
                return f"<repo>/{value.relative_to(root)}"
        return str(value)
    if isinstance(value, list):
        return ",".join(map(str, value)) or "(none)"
    return str(value)


def _comments(cls: type) -> dict[str, str]:
    """Field name → the comment block written just above it in ``cls``'s source."""
    lines, _ = inspect.getsourcelines(cls)
    found: dict[str, str] = {}
    block: list[str] = []
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("#"):
            block.append(stripped.lstrip("#").strip())
            continue
        field = re.match(r"^    (\w+)\s*:", line)
        if field and block:
            found[field.group(1)] = " ".join(block)
        block = []
    return found


def _description(name: str) -> str:
    """The comment above the field, from the class that declared it last."""
    for settings_cls in SERVICE_SETTINGS.values():
        for cls in settings_cls.__mro__:
            if name in getattr(cls, "__annotations__", {}):
                text = _comments(cls).get(name)
                if text:
                    return text
    return NOTES.get(name, "")


def variables() -> list[Variable]:
    """Every setting of every service, shared ones first, in declaration order."""
    order: list[str] = []
    for settings_cls in SERVICE_SETTINGS.values():
        order += [n for n in settings_cls.model_fields if n not in order]
    result = []
    for name in order:
        readers = {s: c for s, c in SERVICE_SETTINGS.items() if name in c.model_fields}
        cls = next(iter(readers.values()))
        field = cls.model_fields[name]
        result.append(
            Variable(
                names=env_names(cls, name, field),
                services=tuple(readers),
                defaults={s: render_default(c.model_fields[name]) for s, c in readers.items()},
                secret=is_secret(field),
                description=_description(name),
            )
        )
    return result


def known_env_names() -> set[str]:
    """Every environment variable some service reads (upper case)."""
    return {n for v in variables() for n in v.names}


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def table() -> str:
    rows = [
        "| Variable | Services | Default | Secret | What it is |",
        "|---|---|---|---|---|",
    ]
    for v in variables():
        names = " or ".join(f"`{n}`" for n in v.names)
        services = "all" if len(v.services) == len(SERVICE_SETTINGS) else ", ".join(v.services)
        distinct = set(v.defaults.values())
        if len(distinct) == 1:
            default = f"`{distinct.pop()}`"
        else:
            default = ", ".join(f"{s}: `{d}`" for s, d in v.defaults.items())
        secret = "**yes**" if v.secret else "no"
        rows.append(
            f"| {names} | {services} | {_cell(default)} | {secret} | {_cell(v.description)} |"
        )
    return "\n".join(rows) + "\n"


def topics_table() -> str:
    rows = ["| Topic | Retention | Why |", "|---|---|---|"]
    for spec in every_topic():
        name = spec.name
        if name.startswith(DLQ_PREFIX) and name != DLQ_PREFIX + CONSUMER_GROUPS[0]:
            continue  # one row stands for every group's dead-letter topic
        if name.startswith(DLQ_PREFIX):
            name = DLQ_PREFIX + "<group>` (" + ", ".join(CONSUMER_GROUPS) + ")"
            name = f"`{name}"
        else:
            name = f"`{name}`"
        retention = f"{spec.retention_days} days (`retention.ms={spec.retention_ms}`)"
        rows.append(f"| {name} | {retention} | {_cell(spec.reason)} |")
    return "\n".join(rows) + "\n"


TABLES = {"settings": table, "topics": topics_table}


def _markers(name: str) -> tuple[str, str]:
    return f"<!-- {name}-table:start ({REGENERATE}) -->", f"<!-- {name}-table:end -->"


def embedded(document: str, name: str) -> str:
    """The ``name`` table between its markers in ``document``."""
    start_mark, end_mark = _markers(name)
    start, end = document.index(start_mark) + len(start_mark), document.index(end_mark)
    return document[start:end].strip("\n") + "\n"


def with_tables(document: str) -> str:
    for name, make in TABLES.items():
        start_mark, end_mark = _markers(name)
        start, end = document.index(start_mark) + len(start_mark), document.index(end_mark)
        document = document[:start] + "\n" + make() + document[end:]
    return document


def stale_tables(document: str) -> list[str]:
    return [name for name, make in TABLES.items() if embedded(document, name) != make()]


@click.command()
@click.option("--write", is_flag=True, help=f"Update the tables in {GUIDE}.")
@click.option("--check", is_flag=True, help=f"Fail if the tables in {GUIDE} are out of date.")
@click.option("--guide", type=click.Path(path_type=Path), default=GUIDE, show_default=True)
def main(write: bool, check: bool, guide: Path) -> None:
    """Print (or write into the deployment guide, or check) the generated tables."""
    if write:
        guide.write_text(with_tables(guide.read_text()))
        click.echo(f"updated {guide}")
    elif check:
        stale = stale_tables(guide.read_text())
        if stale:
            raise click.ClickException(f"{guide}: {', '.join(stale)} out of date: {REGENERATE}")
        click.echo(f"{guide} is up to date")
    else:
        click.echo(table() + "\n" + topics_table(), nl=False)


if __name__ == "__main__":
    main()
