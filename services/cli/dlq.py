"""``corespond dlq list|replay``: what the consumers gave up on, and putting it back."""

import asyncio
import json
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import click
from aiokafka.errors import KafkaError

from services.common.dlq import dead_letter_topics, read_dead_letters, replay
from services.common.settings import ServiceSettings

T = TypeVar("T")


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a broker operation; a broker that cannot be reached is a message, not a traceback."""
    try:
        return asyncio.run(coro)
    except KafkaError as exc:
        raise click.ClickException(f"broker error: {exc!r}") from exc


def _settings(bootstrap: str | None) -> ServiceSettings:
    settings = ServiceSettings(service_name="cli")
    if bootstrap:
        settings.kafka_bootstrap_servers = bootstrap
    return settings


bootstrap_option = click.option(
    "--bootstrap",
    envvar="KAFKA_BOOTSTRAP_SERVERS",
    default="127.0.0.1:9092",
    show_default=True,
    help="Kafka bootstrap servers (default from KAFKA_BOOTSTRAP_SERVERS).",
)


@click.group()
def dlq() -> None:
    """Dead-lettered messages."""


@dlq.command("list")
@bootstrap_option
@click.option("--topic", "topics", multiple=True, help="A dead-letter topic (default: all).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def list_cmd(bootstrap: str, topics: tuple[str, ...], as_json: bool) -> None:
    """List dead letters with their reasons."""
    settings = _settings(bootstrap)

    async def run() -> None:
        names = list(topics) or await dead_letter_topics(settings)
        letters = await read_dead_letters(settings, names)
        if as_json:
            for letter in letters:
                click.echo(json.dumps(letter.summary()))
            return
        if not letters:
            click.echo("no dead letters")
            return
        for letter in letters:
            s = letter.summary()
            click.echo(
                f"{s['dlq_topic']} p{s['partition']}@{s['offset']}  from {s['source_topic']}"
                f"@{s['source_offset']}  {s['event_type'] or '?'}  {s['failed_at']}\n"
                f"    reason: {s['reason']}"
            )

    _run(run())


@dlq.command("replay")
@bootstrap_option
@click.option("--topic", required=True, help="The dead-letter topic, e.g. corespond.dlq.triage.")
@click.option("--offset", type=int, help="Replay this message only (with --partition).")
@click.option("--partition", type=int, default=0, show_default=True)
@click.option(
    "--value-file",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="Replace the message body with this (fixed) file; needs --offset.",
)
def replay_cmd(
    bootstrap: str, topic: str, offset: int | None, partition: int, value_file: Path | None
) -> None:
    """Publish dead letters back to the topic they came from (the inbox makes repeats harmless)."""
    if value_file and offset is None:
        raise click.UsageError("--value-file needs --offset: a fix applies to one message")
    settings = _settings(bootstrap)
    value = value_file.read_bytes() if value_file else None

    async def run() -> int:
        letters = await read_dead_letters(settings, [topic])
        if offset is not None:
            letters = [d for d in letters if d.offset == offset and d.partition == partition]
            if not letters:
                raise click.ClickException(
                    f"no message at {topic} partition {partition} offset {offset}"
                )
        for letter in letters:
            source = await replay(settings, letter, value)
            click.echo(f"replayed {letter.topic} p{letter.partition}@{letter.offset} -> {source}")
        return len(letters)

    count = _run(run())
    if count == 0:
        click.echo("nothing to replay")
