"""``corespond topics create|list``: every topic a deployment needs, laid out as the code says.

The layout (names, retention) is ``services.common.topics.LAYOUT``; partitions and
replication come from the settings (``CORESPOND_KAFKA_TOPIC_PARTITIONS``,
``CORESPOND_KAFKA_REPLICATION_FACTOR``). The services create missing topics the
same way when they connect, so whichever comes first, the topics agree. Creating
is idempotent: topics that exist are reported and left alone (Kafka cannot take
partitions away, and adding some would move keys between partitions).
"""

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

import click
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError

from services.common.bus import new_admin, new_topic
from services.common.settings import ServiceSettings
from services.common.topics import TopicSpec, every_topic

T = TypeVar("T")

# Kafka's error code for "Topic with this name already exists" in CreateTopics.
TOPIC_ALREADY_EXISTS = 36


@dataclass(frozen=True)
class TopicState:
    spec: TopicSpec
    partitions: int | None  # None: the topic does not exist
    retention_ms: str | None = None


def _settings(bootstrap: str | None) -> ServiceSettings:
    settings = ServiceSettings(service_name="cli")
    if bootstrap:
        settings.kafka_bootstrap_servers = bootstrap
    return settings


def _run(settings: ServiceSettings, coro: Coroutine[Any, Any, T]) -> T:
    """A broker that cannot be reached is one clear line and exit status 1, not a traceback."""
    try:
        return asyncio.run(coro)
    except KafkaError as exc:
        raise click.ClickException(
            f"Kafka at {settings.kafka_bootstrap_servers} did not answer: {exc!r}"
        ) from exc


async def _partitions(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, int]:
    if not names:
        return {}
    described = await admin.describe_topics(names)
    return {d["topic"]: len(d["partitions"]) for d in described if d["error_code"] == 0}


async def _retention(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, str]:
    if not names:
        return {}
    resources = [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
    found: dict[str, str] = {}
    for response in await admin.describe_configs(resources):
        for resource in response.resources:
            _code, _message, _type, name, entries = resource
            for entry in entries:
                if entry[0] == "retention.ms":
                    found[name] = entry[1]
    return found


async def create_topics(settings: ServiceSettings) -> tuple[list[TopicSpec], list[TopicState]]:
    """Create the missing topics; return (created, already there with their partitions)."""
    specs = every_topic()
    admin = new_admin(settings)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [s for s in specs if s.name not in existing]
        created: list[TopicSpec] = []
        if missing:
            response = await admin.create_topics([new_topic(settings, s.name) for s in missing])
            errors = {name: (code, message) for name, code, message in response.topic_errors}
            for spec in missing:
                code, message = errors.get(spec.name, (0, None))
                if code == 0:
                    created.append(spec)
                elif code != TOPIC_ALREADY_EXISTS:  # a service created it meanwhile: fine
                    raise click.ClickException(
                        f"creating {spec.name} failed: error {code} {message or ''}".rstrip()
                    )
        created_names = {s.name for s in created}
        others = [s for s in specs if s.name not in created_names]
        counts = await _partitions(admin, [s.name for s in others])
        return created, [TopicState(s, counts.get(s.name)) for s in others]
    finally:
        await admin.close()


async def topic_states(settings: ServiceSettings) -> list[TopicState]:
    specs = every_topic()
    admin = new_admin(settings)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        present = [s.name for s in specs if s.name in existing]
        counts = await _partitions(admin, present)
        retention = await _retention(admin, present)
        return [TopicState(s, counts.get(s.name), retention.get(s.name)) for s in specs]
    finally:
        await admin.close()


bootstrap_option = click.option(
    "--bootstrap",
    default=None,
    help="Kafka bootstrap servers (default: KAFKA_BOOTSTRAP_SERVERS from the environment).",
)


@click.group()
def topics() -> None:
    """Kafka topics: create them all before the first deployment, check them after."""


@topics.command("create")
@bootstrap_option
def create_cmd(bootstrap: str | None) -> None:
    """Create every event topic and every dead-letter topic that is missing (idempotent)."""
    settings = _settings(bootstrap)
    created, others = _run(settings, create_topics(settings))
    wanted = settings.kafka_topic_partitions
    for spec in created:
        click.echo(
            f"created {spec.name}: {wanted} partitions, replication "
            f"{settings.kafka_replication_factor}, retention {spec.retention_days} days"
        )
    for state in others:
        click.echo(f"exists  {state.spec.name}: {state.partitions} partitions")
        if state.partitions is not None and state.partitions != wanted:
            click.echo(
                f"warning: {state.spec.name} has {state.partitions} partitions, the settings "
                f"say {wanted}; left as is (changing them moves incidents between partitions)",
                err=True,
            )


@topics.command("list")
@bootstrap_option
def list_cmd(bootstrap: str | None) -> None:
    """Every topic corespond needs, with its partitions and retention on the broker."""
    settings = _settings(bootstrap)
    states = _run(settings, topic_states(settings))
    missing = 0
    for state in states:
        if state.partitions is None:
            missing += 1
            click.echo(f"{state.spec.name}: missing")
            continue
        click.echo(
            f"{state.spec.name}: {state.partitions} partitions, "
            f"retention.ms {state.retention_ms or 'broker default'} "
            f"(layout: {state.spec.retention_ms})"
        )
    if missing:
        raise click.ClickException(f"{missing} topic(s) missing: run `corespond topics create`")
