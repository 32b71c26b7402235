"""``corespond topics create`` lays every topic out as services/common/topics.py says,
is idempotent, agrees with what the services create themselves, and fails plainly
on a broker it cannot reach.

Tansu (the embedded broker) stores topic configs and answers DescribeConfigs, so
retention is checked on the broker, not only in the command's output.
"""

import os

from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from services.cli.stack import Tansu, free_port
from services.common.bus import ensure_topics, new_admin
from services.common.settings import ServiceSettings
from services.common.topics import (
    ALL,
    CONSUMER_GROUPS,
    LAYOUT,
    dead_letter_topic,
    every_topic,
    spec_of,
)
from tests.support.cli import corespond


def _env(**settings: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CORESPOND_") and k != "KAFKA_BOOTSTRAP_SERVERS"
    }
    env.update(settings)
    return env


async def _layout_on_broker(bootstrap: str) -> dict[str, tuple[int, str | None]]:
    """Topic → (partitions, retention.ms) as the broker reports them."""
    admin = new_admin(ServiceSettings(service_name="test", kafka_bootstrap_servers=bootstrap))
    await admin.start()
    try:
        names = [t for t in await admin.list_topics() if t.startswith("corespond.")]
        partitions = {d["topic"]: len(d["partitions"]) for d in await admin.describe_topics(names)}
        resources = [ConfigResource(ConfigResourceType.TOPIC, n) for n in names]
        retention: dict[str, str | None] = dict.fromkeys(names)
        for response in await admin.describe_configs(resources):
            for _code, _msg, _type, name, entries in response.resources:
                for entry in entries:
                    if entry[0] == "retention.ms":
                        retention[name] = entry[1]
        return {n: (partitions[n], retention[n]) for n in names}
    finally:
        await admin.close()


def test_the_layout_covers_every_topic_and_dead_letter_topic() -> None:
    assert set(LAYOUT) == set(ALL)
    names = [spec.name for spec in every_topic()]
    assert names == [*ALL, *(dead_letter_topic(g) for g in CONSUMER_GROUPS)]
    assert all(spec.retention_days >= 1 and spec.reason for spec in every_topic())


async def test_create_makes_every_topic_once_with_its_retention(broker: Tansu) -> None:
    env = _env(KAFKA_BOOTSTRAP_SERVERS=broker.bootstrap, CORESPOND_KAFKA_TOPIC_PARTITIONS="3")
    first = await corespond("topics", "create", env=env)
    assert first.code == 0, first.err
    assert first.out.count("created ") == len(every_topic())

    on_broker = await _layout_on_broker(broker.bootstrap)
    assert on_broker == {s.name: (3, str(s.retention_ms)) for s in every_topic()}

    again = await corespond("topics", "create", env=env)
    assert again.code == 0, again.err
    assert "created" not in again.out
    assert again.out.count("exists ") == len(every_topic())

    listed = await corespond("topics", "list", env=env)
    assert listed.code == 0, listed.err
    assert "missing" not in listed.out


async def test_services_create_missing_topics_with_the_same_layout(broker: Tansu) -> None:
    settings = ServiceSettings(
        service_name="triage", kafka_bootstrap_servers=broker.bootstrap, kafka_topic_partitions=2
    )
    await ensure_topics(settings, [*ALL, dead_letter_topic("triage")])
    on_broker = await _layout_on_broker(broker.bootstrap)
    assert on_broker[dead_letter_topic("triage")] == (
        2,
        str(spec_of(dead_letter_topic("triage")).retention_ms),
    )
    assert on_broker["corespond.audit"] == (2, str(LAYOUT["corespond.audit"].retention_ms))

    # The command then fills in only what the services did not need.
    ran = await corespond(
        "topics", "create", "--bootstrap", broker.bootstrap, env=_env(), timeout_s=60
    )
    assert ran.code == 0, ran.err
    assert ran.out.count("created ") == len(CONSUMER_GROUPS) - 1
    # Existing topics keep their partitions; the command says they differ from the settings.
    assert "warning: corespond.calls has 2 partitions" in ran.err


async def test_an_unreachable_broker_is_a_plain_error() -> None:
    ran = await corespond("topics", "create", "--bootstrap", f"127.0.0.1:{free_port()}", env=_env())
    assert ran.code == 1
    assert "did not answer" in ran.err
    assert "Traceback" not in ran.err
