"""``corespond bench``: calls/s and POST→SMS latency through a real stack, with the broker's floor.

By default it starts its own stack (embedded Tansu, SQLite in a temporary
folder, console SMS, a generated roster big enough that no call runs out of
units), so the figures are comparable run to run. The broker's own
produce→consume round trip is measured in the same run as the floor.
"""

import asyncio
import json
import random
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from services.cli.stack import Stack, StackConfig, Tansu, free_port
from services.common.bus import ensure_topics
from services.common.settings import ServiceSettings
from services.common.topics import NOTIFICATIONS

CENTRE = (39.7392, -104.9903)

SAMPLE_CALLS: list[dict[str, Any]] = [
    {
        "narrative": "friend found him nodding out in the bathroom, lips blue, used fentanyl",
        "answers": {"breathing": True, "conscious": False, "overdose_suspected": True},
    },
    {
        "narrative": "my brother is hearing voices and pacing, no weapons, hasn't hurt anyone",
        "answers": {"weapons": False, "violence": False},
    },
    {
        "narrative": "elderly neighbour confused wandering outside in the cold",
        "answers": {"weapons": False},
    },
    {
        "narrative": "man yelling and swinging a knife at people outside the store",
        "answers": {"weapons": True, "violence": True},
    },
    {
        "narrative": "she says she wants to die, took a bottle of pills an hour ago",
        "answers": {"suicidal": True},
    },
]


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
class Figures:
    calls: int
    elapsed_s: float
    first_sms_ms: list[float]
    all_sms_ms: list[float]
    sms_total: int
    rtt_ms: list[float]
    missing: int

    def report(self) -> str:
        def line(name: str, xs: list[float]) -> str:
            return (
                f"  {name:<32} p50 {percentile(xs, 50):7.1f} ms   p95 {percentile(xs, 95):7.1f} ms"
                f"   p99 {percentile(xs, 99):7.1f} ms   (n={len(xs)})"
            )

        return "\n".join(
            [
                f"corespond bench: {self.calls} calls, {self.sms_total} SMS recorded, "
                f"{self.missing} calls without SMS",
                f"  throughput                       {self.calls / self.elapsed_s:7.1f} calls/s "
                f"(first POST to last SMS, {self.elapsed_s:.2f} s)",
                line("POST → first SMS recorded", self.first_sms_ms),
                line("POST → every SMS of the call", self.all_sms_ms),
                line("broker produce→consume (floor)", self.rtt_ms),
            ]
        )


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


async def run_calls(
    dispatch_url: str,
    token: str,
    bootstrap: str,
    calls: int,
    concurrency: int,
    rtt_samples: int,
    timeout_s: float,
) -> Figures:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=10
    )
    await consumer.start()
    await consumer.topics()
    partitions = [
        TopicPartition(NOTIFICATIONS, p) for p in consumer.partitions_for_topic(NOTIFICATIONS) or ()
    ]
    consumer.assign(partitions)
    await consumer.seek_to_end(*partitions)
    for tp in partitions:
        await consumer.position(tp)
    sent_at: dict[str, list[datetime]] = defaultdict(list)
    posted_at: dict[str, datetime] = {}
    all_posted = False
    complete = asyncio.Event()

    async def collect() -> None:
        while True:
            for records in (await consumer.getmany(timeout_ms=100)).values():
                for r in records:
                    event = json.loads(r.value)
                    if event["data"]["status"] == "sent":
                        when = datetime.fromisoformat(event["data"]["occurred_at"])
                        sent_at[event["subject"]].append(when)
            if all_posted and all(i in sent_at for i in posted_at):
                complete.set()

    collector = asyncio.create_task(collect())
    rng = random.Random(11)
    pending = list(range(calls))
    headers = {"Authorization": f"Bearer {token}"}
    try:
        async with httpx.AsyncClient(base_url=dispatch_url, headers=headers, timeout=30) as client:

            async def worker() -> None:
                while pending:
                    pending.pop()
                    body = dict(rng.choice(SAMPLE_CALLS))
                    body["location"] = {
                        "lat": CENTRE[0] + rng.uniform(-0.05, 0.05),
                        "lon": CENTRE[1] + rng.uniform(-0.05, 0.05),
                        "address": "bench",
                    }
                    start = datetime.now(UTC)
                    response = await client.post("/v1/calls", json=body)
                    response.raise_for_status()
                    posted_at[response.json()["incident_id"]] = start

            await asyncio.gather(*(worker() for _ in range(concurrency)))
            all_posted = True
            try:
                await asyncio.wait_for(complete.wait(), timeout_s)
            except TimeoutError:
                pass
            await asyncio.sleep(1.0)  # stragglers: the second and third SMS of a call
    finally:
        collector.cancel()
        await consumer.stop()
    done = [i for i in posted_at if i in sent_at]
    first_post = min(posted_at.values())
    last_sms = max((max(sent_at[i]) for i in done), default=first_post)
    return Figures(
        calls=calls,
        elapsed_s=max((last_sms - first_post).total_seconds(), 1e-6),
        first_sms_ms=[(min(sent_at[i]) - posted_at[i]).total_seconds() * 1000 for i in done],
        all_sms_ms=[(max(sent_at[i]) - posted_at[i]).total_seconds() * 1000 for i in done],
        sms_total=sum(len(sent_at[i]) for i in done),
        rtt_ms=await broker_round_trip(bootstrap, rtt_samples),
        missing=len(posted_at) - len(done),
    )


@click.command()
@click.option("--calls", default=300, show_default=True, help="How many calls to push through.")
@click.option("--concurrency", default=8, show_default=True, help="Concurrent HTTP clients.")
@click.option("--rtt-samples", default=300, show_default=True, help="Broker round trips to time.")
@click.option("--timeout", "timeout_s", default=120.0, show_default=True)
def bench(calls: int, concurrency: int, rtt_samples: int, timeout_s: float) -> None:
    """Start a throwaway embedded stack, push calls through it, print the figures."""
    with tempfile.TemporaryDirectory(prefix="corespond-bench-") as tmp:
        data_dir = Path(tmp)
        roster = data_dir / "roster.json"
        roster.write_text(json.dumps(demo_roster(units_per_role=calls)))
        tansu = Tansu(log=(data_dir / "tansu.log").open("ab"))
        tansu.start()
        token = "bench-" + str(free_port())
        stack = Stack(
            StackConfig(
                data_dir=data_dir,
                bootstrap_servers=tansu.bootstrap,
                token=token,
                ports={name: free_port() for name in ("dispatch", "triage", "notify")},
                seed_roster=roster,
                extra_env={"CORESPOND_LOG_LEVEL": "WARNING"},
            )
        )
        try:
            click.echo("starting a throwaway stack (Tansu, SQLite, console SMS) ...", err=True)
            stack.start()
            figures = asyncio.run(
                run_calls(
                    stack.url("dispatch"),
                    token,
                    tansu.bootstrap,
                    calls,
                    concurrency,
                    rtt_samples,
                    timeout_s,
                )
            )
        finally:
            stack.stop()
            tansu.stop()
    click.echo(figures.report())
    if figures.missing:
        raise SystemExit(1)
