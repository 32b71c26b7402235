"""``corespond bench``: calls/s and POST→SMS latency through a real stack, with the broker's floor.

By default it starts its own stack (embedded Tansu, SQLite in a temporary
folder, console SMS, a generated roster big enough that no call runs out of
units), so the figures are comparable run to run. The broker's own
produce→consume round trip is measured in the same run as the floor.
"""

import asyncio
import contextlib
import json
import random
import secrets
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from services.cli.bench_dispatch import measure_recommendation
from services.cli.bench_triage import measure_engine
from services.cli.local_auth import operator_token
from services.cli.sample_calls import SAMPLE_CALLS
from services.cli.stack import SERVICES, Stack, StackConfig, Tansu, free_port
from services.common.bus import ensure_topics
from services.common.db import Database
from services.common.field_crypto import generate_key
from services.common.migrations import Migrations
from services.common.settings import ServiceSettings
from services.common.topics import NOTIFICATIONS

CENTRE = (39.7392, -104.9903)


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def demo_roster(units_per_role: int, seed: int = 7) -> list[dict[str, Any]]:
    """Units scattered within ~10 km of the centre, every one with a phone."""
    rng = random.Random(seed)
    roster = []
    n = 0
    for role, agency in (
        ("police", "DPD"),
        ("clinician", "STAR"),
        ("emt", "DFD"),
        ("telehealth", "TeleCrisis"),
    ):
        for i in range(units_per_role):
            n += 1
            roster.append(
                {
                    "call_sign": f"{role[:3].upper()}-{i:04d}",
                    "agency": agency,
                    "roles": [role],
                    "phone": f"+1720{n:07d}",
                    "lat": CENTRE[0] + rng.uniform(-0.09, 0.09),
                    "lon": CENTRE[1] + rng.uniform(-0.12, 0.12),
                }
            )
    return roster


@dataclass
class Phase:
    """One load pattern pushed through the stack, and what came out."""

    name: str
    calls: int
    elapsed_s: float
    first_sms_ms: list[float]
    all_sms_ms: list[float]
    sms_total: int
    missing: int


def _line(name: str, xs: list[float]) -> str:
    return (
        f"  {name:<34} p50 {percentile(xs, 50):7.1f} ms   p95 {percentile(xs, 95):7.1f} ms"
        f"   p99 {percentile(xs, 99):7.1f} ms   (n={len(xs)})"
    )


def report(heading: str, phases: list[Phase], rtt_ms: list[float]) -> str:
    lines = [f"corespond bench ({heading})"]
    for phase in phases:
        lines += [
            f"{phase.name}: {phase.calls} calls, {phase.sms_total} SMS, "
            f"{phase.missing} calls without SMS",
            f"  {'throughput':<34} {phase.calls / phase.elapsed_s:7.1f} calls/s "
            f"(first POST to last SMS recorded, {phase.elapsed_s:.2f} s)",
            _line("POST -> first SMS recorded", phase.first_sms_ms),
            _line("POST -> every SMS of the call", phase.all_sms_ms),
        ]
    lines += ["floor", _line("broker produce -> consume", rtt_ms)]
    return "\n".join(lines)


async def broker_round_trip(bootstrap: str, samples: int) -> list[float]:
    topic = f"corespond.bench.rtt.{free_port()}"
    settings = ServiceSettings(
        service_name="bench", kafka_bootstrap_servers=bootstrap, kafka_topic_partitions=1
    )
    await ensure_topics(settings, [topic])
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=0)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=10
    )
    await producer.start()
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        await consumer.seek_to_end(tp)
        await consumer.position(tp)
        out = []
        for i in range(samples):
            t0 = time.perf_counter()
            await producer.send_and_wait(topic, str(i).encode())
            await consumer.getone()
            out.append((time.perf_counter() - t0) * 1000)
        return out
    finally:
        await producer.stop()
        await consumer.stop()


class SmsWatcher:
    """Reads notification statuses off the bus: when each incident's SMS were recorded."""

    def __init__(self, bootstrap: str) -> None:
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=10
        )
        self.sent_at: dict[str, list[datetime]] = defaultdict(list)
        self.changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.consumer.start()
        await self.consumer.topics()
        partitions = [
            TopicPartition(NOTIFICATIONS, p)
            for p in self.consumer.partitions_for_topic(NOTIFICATIONS) or ()
        ]
        self.consumer.assign(partitions)
        await self.consumer.seek_to_end(*partitions)
        for tp in partitions:
            await self.consumer.position(tp)
        self._task = asyncio.create_task(self._collect())

    async def _collect(self) -> None:
        while True:
            for records in (await self.consumer.getmany(timeout_ms=100)).values():
                for r in records:
                    event = json.loads(r.value)
                    if event["data"]["status"] == "sent":
                        when = datetime.fromisoformat(event["data"]["occurred_at"])
                        self.sent_at[event["subject"]].append(when)
                        self.changed.set()

    async def wait_for(self, incident_ids: list[str], timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while any(i not in self.sent_at for i in incident_ids):
            self.changed.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            try:
                await asyncio.wait_for(self.changed.wait(), remaining)
            except TimeoutError:
                return
        await asyncio.sleep(1.0)  # stragglers: the second and third SMS of a call

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
        await self.consumer.stop()


async def push_calls(
    clients: list[httpx.AsyncClient],
    calls: int,
    rate: float | None,
    concurrency: int,
    rng: random.Random,
) -> dict[str, datetime]:
    """POST ``calls`` calls, paced at ``rate`` per second or as fast as ``concurrency`` allows.

    With several dispatch replicas the calls go round-robin, as a load balancer would.
    """
    posted_at: dict[str, datetime] = {}
    gate = asyncio.Semaphore(concurrency)

    async def post(client: httpx.AsyncClient) -> None:
        body = dict(rng.choice(SAMPLE_CALLS))
        body["location"] = {
            "lat": CENTRE[0] + rng.uniform(-0.05, 0.05),
            "lon": CENTRE[1] + rng.uniform(-0.05, 0.05),
            "address": "bench",
        }
        async with gate:
            start = datetime.now(UTC)
            response = await client.post("/v1/calls", json=body)
        response.raise_for_status()
        posted_at[response.json()["incident_id"]] = start

    tasks = []
    begin = time.monotonic()
    for i in range(calls):
        if rate:
            await asyncio.sleep(max(0.0, begin + i / rate - time.monotonic()))
        tasks.append(asyncio.create_task(post(clients[i % len(clients)])))
    await asyncio.gather(*tasks)
    return posted_at


async def run_phase(
    name: str,
    clients: list[httpx.AsyncClient],
    watcher: SmsWatcher,
    calls: int,
    rate: float | None,
    concurrency: int,
    timeout_s: float,
) -> Phase:
    posted_at = await push_calls(clients, calls, rate, concurrency, random.Random(11))
    await watcher.wait_for(list(posted_at), timeout_s)
    sent_at = watcher.sent_at
    done = [i for i in posted_at if i in sent_at]
    first_post = min(posted_at.values())
    last_sms = max((max(sent_at[i]) for i in done), default=first_post)
    return Phase(
        name=name,
        calls=calls,
        elapsed_s=max((last_sms - first_post).total_seconds(), 1e-6),
        first_sms_ms=[(min(sent_at[i]) - posted_at[i]).total_seconds() * 1000 for i in done],
        all_sms_ms=[(max(sent_at[i]) - posted_at[i]).total_seconds() * 1000 for i in done],
        sms_total=sum(len(sent_at[i]) for i in done),
        missing=len(posted_at) - len(done),
    )


async def run_bench(
    dispatch_urls: list[str],
    token: str,
    bootstrap: str,
    calls: int,
    rate: float,
    concurrency: int,
    rtt_samples: int,
    timeout_s: float,
) -> tuple[list[Phase], list[float]]:
    watcher = SmsWatcher(bootstrap)
    await watcher.start()
    headers = {"Authorization": f"Bearer {token}"}
    clients = [
        httpx.AsyncClient(base_url=url, headers=headers, timeout=60) for url in dispatch_urls
    ]
    try:
        async with contextlib.AsyncExitStack() as closing:
            for client in clients:
                await closing.enter_async_context(client)
            paced = await run_phase(
                f"paced at {rate:g} calls/s", clients, watcher, calls, rate, concurrency, timeout_s
            )
            flood = await run_phase(
                f"as fast as {concurrency} clients post",
                clients,
                watcher,
                calls,
                None,
                concurrency,
                timeout_s,
            )
    finally:
        await watcher.stop()
    return [paced, flood], await broker_round_trip(bootstrap, rtt_samples)


@dataclass
class Target:
    """Where one bench run's services keep their data, and how many of each run."""

    heading: str
    database_urls: dict[str, str]
    database_schemas: dict[str, str]
    replicas: dict[str, int]


EMBEDDED = Target("embedded: Tansu, SQLite, console SMS, one process each", {}, {}, {})


def production_target(postgres_url: str, replicas: dict[str, int]) -> Target:
    # Fresh schemas per run, dropped afterwards: a bench never touches real data.
    prefix = f"bench_{secrets.token_hex(4)}"
    counts = ", ".join(f"{n} {name}" for name, n in replicas.items())
    return Target(
        f"PostgreSQL, Tansu, console SMS, replicas: {counts}",
        {name: postgres_url for name in SERVICES},
        {name: f"{prefix}_{name}" for name in SERVICES},
        replicas,
    )


def parse_replicas(text: str) -> dict[str, int]:
    """``dispatch=3,triage=2,notify=2`` → counts per service (1 for any not named)."""
    counts = dict.fromkeys(SERVICES, 1)
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, value = part.partition("=")
        if name not in counts or not value.isdigit() or int(value) < 1:
            raise click.BadParameter(
                f"{part!r}: expected SERVICE=N with SERVICE one of {', '.join(SERVICES)}",
                param_hint="--replicas",
            )
        counts[name] = int(value)
    return counts


@contextlib.contextmanager
def throwaway_stack(
    target: Target, units_per_role: int, log_level: str = "WARNING"
) -> Iterator[tuple[Stack, Tansu, str]]:
    """A stack of its own on ``target`` (temporary folder, generated roster, fresh
    schemas dropped afterwards): the stack, its broker and the token secret."""
    with tempfile.TemporaryDirectory(prefix="corespond-bench-") as tmp:
        data_dir = Path(tmp)
        roster = data_dir / "roster.json"
        roster.write_text(json.dumps(demo_roster(units_per_role=units_per_role)))
        tansu = Tansu(log=(data_dir / "tansu.log").open("ab"))
        tansu.start()
        secret = secrets.token_urlsafe(48)
        stack = Stack(
            StackConfig(
                data_dir=data_dir,
                bootstrap_servers=tansu.bootstrap,
                auth_secret=secret,
                data_keys=generate_key(),
                ports={name: free_port() for name in SERVICES},
                database_urls=target.database_urls,
                database_schemas=target.database_schemas,
                seed_roster=roster,
                replicas=target.replicas,
                extra_env={"CORESPOND_LOG_LEVEL": log_level},
            )
        )
        try:
            click.echo(f"starting a throwaway stack ({target.heading}) ...", err=True)
            if target.database_schemas:
                # As in production: `corespond db upgrade` first, then the services
                # start in "check" mode against the migrated schemas.
                asyncio.run(upgrade_schemas(target))
            stack.start()
            yield stack, tansu, secret
        finally:
            stack.stop()
            tansu.stop()
            if target.database_schemas:
                asyncio.run(drop_schemas(next(iter(target.database_urls.values())), target))


def bench_stack(
    target: Target,
    calls: int,
    rate: float,
    concurrency: int,
    rtt_samples: int,
    timeout_s: float,
) -> tuple[list[Phase], list[float]]:
    """Start a throwaway stack on ``target``, push both phases through it, stop it."""
    with throwaway_stack(target, units_per_role=2 * calls) as (stack, tansu, secret):
        return asyncio.run(
            run_bench(
                [process.url for process in stack.replicas["dispatch"]],
                operator_token(secret),
                tansu.bootstrap,
                calls,
                rate,
                concurrency,
                rtt_samples,
                timeout_s,
            )
        )


async def upgrade_schemas(target: Target) -> None:
    for name in SERVICES:
        db = Database(
            ServiceSettings(database_url=target.database_urls[name]).resolved_database_url(),
            schema=target.database_schemas[name],
        )
        try:
            await Migrations.of(name).upgrade(db)
        finally:
            await db.dispose()


async def drop_schemas(url: str, target: Target) -> None:
    engine = create_async_engine(ServiceSettings(database_url=url).resolved_database_url())
    try:
        async with engine.begin() as conn:
            for schema in target.database_schemas.values():
                await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        await engine.dispose()


@click.command()
@click.option("--calls", default=300, show_default=True, help="Calls per phase.")
@click.option("--rate", default=10.0, show_default=True, help="Calls/s in the paced phase.")
@click.option("--concurrency", default=8, show_default=True, help="Concurrent HTTP clients.")
@click.option("--rtt-samples", default=300, show_default=True, help="Broker round trips to time.")
@click.option("--timeout", "timeout_s", default=120.0, show_default=True)
@click.option(
    "--postgres",
    "postgres_url",
    default=None,
    metavar="URL",
    help="After the embedded run, run again on this PostgreSQL (fresh schemas, dropped "
    "afterwards) with --replicas, and print both.",
)
@click.option(
    "--replicas",
    "replicas_text",
    default="dispatch=3,triage=2,notify=2",
    show_default=True,
    help="Processes per service for the --postgres run.",
)
@click.option("--triage-only", is_flag=True, help="Only the triage engine, in process.")
@click.option("--decisions", default=20_000, show_default=True, help="Engine decisions to time.")
@click.option(
    "--dispatch-only",
    is_flag=True,
    help="Only recommendation at 50 and 5,000 units, in process (and on --postgres too).",
)
@click.option(
    "--recommendations", default=300, show_default=True, help="Calls to recommend per roster size."
)
def bench(
    calls: int,
    rate: float,
    concurrency: int,
    rtt_samples: int,
    timeout_s: float,
    postgres_url: str | None,
    replicas_text: str,
    triage_only: bool,
    decisions: int,
    dispatch_only: bool,
    recommendations: int,
) -> None:
    """Start a throwaway stack, push calls through it, print the figures.

    Two phases on the same stack: calls paced at --rate (latency at a stated
    load), then the same number as fast as --concurrency clients can post
    (throughput; latency there is mostly queueing). With --postgres the same
    phases run a second time on PostgreSQL with replicas, in the same run.
    """
    if dispatch_only:
        click.echo(measure_recommendation(calls=recommendations).report())
        if postgres_url:
            click.echo(
                measure_recommendation(calls=recommendations, postgres_url=postgres_url).report()
            )
        return
    targets = [EMBEDDED]
    if postgres_url:
        targets.append(production_target(postgres_url, parse_replicas(replicas_text)))
    engine = measure_engine(decisions)
    if triage_only:
        click.echo(engine.report())
        return
    missing = False
    for target in targets:
        phases, rtt = bench_stack(target, calls, rate, concurrency, rtt_samples, timeout_s)
        click.echo(report(target.heading, phases, rtt))
        missing = missing or any(phase.missing for phase in phases)
    click.echo(engine.report())
    click.echo(measure_recommendation(calls=recommendations).report())
    if missing:
        raise SystemExit(1)
