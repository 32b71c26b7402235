"""``corespond faults``: the faults a 911 centre meets, on a throwaway stack, counted.

Two faults, each under a stream of calls posted the way a CAD posts them (one
``Idempotency-Key`` per call, retried until ``202``):

- ``broker-restart``: the broker killed (SIGKILL) a third of the way in and a new,
  empty one started on the same port after ``--outage`` seconds; it remembers
  nothing, so events it had acknowledged are gone.
- ``kill SERVICE``: that service killed (SIGKILL) a third of the way in and
  started again ``--down`` seconds later.

Then it waits until every accepted call is texted and counts, through the API
only: calls lost, incidents made twice, calls triaged twice, responders texted
twice, and what reconciliation re-sent. It exits non-zero if anything was lost
or repeated. The README's "Faults survived" table is made with it.
"""

import asyncio
import contextlib
import random
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import click
import httpx

from services.cli.bench import (
    CENTRE,
    EMBEDDED,
    Target,
    parse_replicas,
    production_target,
    throwaway_stack,
)
from services.cli.local_auth import operator_token
from services.cli.sample_calls import SAMPLE_CALLS
from services.cli.stack import SERVICES, Stack, Tansu


@dataclass
class Outcome:
    fault: str
    calls: int
    accepted: list[str] = field(default_factory=list)
    retried_posts: int = 0  # POSTs that failed (cut off, refused, 5xx) and were sent again
    texted: int = 0
    incidents_made: int = 0
    triaged_twice: int = 0
    offers: int = 0
    sms_twice: int = 0
    resent: dict[str, float] = field(default_factory=dict)
    gave_up: float = 0.0
    recovered_s: float | None = None

    @property
    def lost(self) -> int:
        return self.calls - self.texted

    @property
    def failed(self) -> bool:
        return bool(
            self.lost or self.incidents_made != self.calls or self.triaged_twice or self.sms_twice
        )

    def report(self) -> str:
        resent = ", ".join(f"{k} {v:.0f}" for k, v in sorted(self.resent.items())) or "none"
        recovered = f"{self.recovered_s:.1f} s" if self.recovered_s is not None else "-"
        rows = [
            ("fault", self.fault),
            (
                "calls accepted (202)",
                f"{len(self.accepted)} of {self.calls} ({self.retried_posts} POSTs retried)",
            ),
            ("calls texted", f"{self.texted} (lost {self.lost})"),
            (
                "incidents made",
                f"{self.incidents_made} (extra: {self.incidents_made - self.calls})",
            ),
            ("calls triaged twice", str(self.triaged_twice)),
            ("offers / texted twice", f"{self.offers} / {self.sms_twice}"),
            ("re-sent by reconciliation", resent),
            ("given up (alerted)", f"{self.gave_up:.0f}"),
            ("fault over → last call texted", recovered),
        ]
        width = max(len(name) for name, _ in rows)
        return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


async def post_until_accepted(
    client: httpx.AsyncClient, urls: list[str], body: dict[str, object], timeout_s: float
) -> tuple[str, int]:
    """As a CAD retries: the same key until some dispatch answers 202; the incident id
    and how many tries failed first."""
    key = f"faults-{uuid.uuid4()}"
    deadline = time.monotonic() + timeout_s
    attempt = 0
    while True:
        url = urls[attempt % len(urls)]
        attempt += 1
        with contextlib.suppress(httpx.TransportError):
            response = await client.post(
                url + "/v1/calls", json=body, headers={"Idempotency-Key": key}
            )
            if response.status_code == 202:
                incident_id: str = response.json()["incident_id"]
                return incident_id, attempt - 1
            if response.status_code < 500:
                raise click.ClickException(f"call refused: {response.text}")
        if time.monotonic() > deadline:
            raise click.ClickException(f"a call was not accepted in {timeout_s:.0f} s")
        await asyncio.sleep(0.2 + random.random() * 0.2)


def _call(rng: random.Random) -> dict[str, object]:
    body = dict(rng.choice(SAMPLE_CALLS))
    body["location"] = {
        "lat": CENTRE[0] + rng.uniform(-0.05, 0.05),
        "lon": CENTRE[1] + rng.uniform(-0.05, 0.05),
        "address": "faults",
    }
    return body


async def _texted(client: httpx.AsyncClient, url: str, incident_id: str) -> bool:
    view = (await client.get(f"{url}/v1/incidents/{incident_id}")).json()
    sent = [n for n in view.get("notifications", []) if n["status"] == "sent"]
    return bool(view.get("recommendation")) and len(sent) >= len(view["recommendation"])


async def run_fault(
    stack: Stack,
    tansu: Tansu,
    token: str,
    *,
    fault: str,
    victim: str | None,
    calls: int,
    rate: float,
    pause_s: float,
    timeout_s: float,
) -> Outcome:
    started = datetime.now(UTC)
    outcome = Outcome(fault, calls)
    dispatch = [p.url for p in stack.replicas["dispatch"]]
    rng = random.Random(5)
    fault_over: float | None = None
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30) as c:

        async def inject() -> None:
            nonlocal fault_over
            if victim is None:
                assert tansu.process is not None
                tansu.process.kill()
                tansu.process.wait()
                await asyncio.sleep(pause_s)
                await asyncio.to_thread(tansu.start)
            else:
                stack.services[victim].kill()
                await asyncio.sleep(pause_s)
                await asyncio.to_thread(stack.restart, victim)
            fault_over = time.monotonic()

        posts = []
        faulted: asyncio.Task[None] | None = None
        begin = time.monotonic()
        for i in range(calls):
            await asyncio.sleep(max(0.0, begin + i / rate - time.monotonic()))
            if i == calls // 3:
                faulted = asyncio.create_task(inject())
            posts.append(
                asyncio.create_task(post_until_accepted(c, dispatch, _call(rng), timeout_s))
            )
        answers = await asyncio.gather(*posts)
        outcome.accepted = [incident_id for incident_id, _ in answers]
        outcome.retried_posts = sum(failed for _, failed in answers)
        if faulted is not None:
            await faulted
        click.echo(f"{len(outcome.accepted)} calls accepted; waiting for their SMS ...", err=True)

        waiting = set(outcome.accepted)
        deadline = time.monotonic() + timeout_s
        while waiting and time.monotonic() < deadline:
            done = {i for i in list(waiting) if await _texted(c, dispatch[0], i)}
            waiting -= done
            if waiting:
                await asyncio.sleep(1.0)
        if fault_over is not None:
            outcome.recovered_s = time.monotonic() - fault_over
        outcome.texted = len(outcome.accepted) - len(waiting)
        await _count(c, stack, outcome, started)
    return outcome


async def _count(c: httpx.AsyncClient, stack: Stack, outcome: Outcome, since: datetime) -> None:
    dispatch, notify = stack.url("dispatch"), stack.url("notify")
    summary = (
        await c.get(f"{dispatch}/v1/reports/summary", params={"since": since.isoformat()})
    ).json()
    outcome.incidents_made = int(summary["incidents"])
    for incident_id in outcome.accepted:
        view = (await c.get(f"{dispatch}/v1/incidents/{incident_id}")).json()
        kinds = [entry["kind"] for entry in view.get("timeline", [])]
        outcome.triaged_twice += kinds.count("call.triaged") > 1
        outcome.offers += len(view.get("assignments", []))
        messages = (
            await c.get(f"{notify}/v1/messages", params={"incident_id": incident_id})
        ).json()
        per_offer = Counter(m["assignment_id"] for m in messages if m["assignment_id"])
        outcome.sms_twice += sum(n - 1 for n in per_offer.values() if n > 1)
    # Every dispatch replica reconciles; their counters add up.
    for process in stack.replicas["dispatch"]:
        text = (await c.get(f"{process.url}/metrics")).text
        for check, value in re.findall(
            r'^corespond_reconcile_resent_total\{check="(\w+)"\} ([0-9.e+]+)$', text, re.M
        ):
            outcome.resent[check] = outcome.resent.get(check, 0.0) + float(value)
        outcome.gave_up += sum(
            float(v)
            for v in re.findall(
                r"^corespond_reconcile_gave_up_total\{[^}]*\} ([0-9.e+]+)$", text, re.M
            )
        )


def _run(
    target: Target,
    fault: str,
    victim: str | None,
    calls: int,
    rate: float,
    pause_s: float,
    timeout_s: float,
) -> Outcome:
    with throwaway_stack(target, units_per_role=2 * calls) as (stack, tansu, secret):
        return asyncio.run(
            run_fault(
                stack,
                tansu,
                operator_token(secret, ttl=timedelta(hours=4)),
                fault=fault,
                victim=victim,
                calls=calls,
                rate=rate,
                pause_s=pause_s,
                timeout_s=timeout_s,
            )
        )


_common = [
    click.option("--calls", default=300, show_default=True, help="Calls in the stream."),
    click.option("--rate", default=5.0, show_default=True, help="Calls posted per second."),
    click.option("--timeout", "timeout_s", default=300.0, show_default=True),
    click.option(
        "--postgres",
        "postgres_url",
        default=None,
        metavar="URL",
        help="Run on this PostgreSQL (fresh schemas, dropped afterwards) with --replicas.",
    ),
    click.option(
        "--replicas",
        "replicas_text",
        default="dispatch=2,triage=2,notify=2",
        show_default=True,
        help="Processes per service for the --postgres run.",
    ),
]


F = TypeVar("F", bound=Callable[..., None])


def _with_common(command: F) -> F:
    for option in reversed(_common):
        command = option(command)
    return command


def _target(postgres_url: str | None, replicas_text: str) -> Target:
    if postgres_url:
        return production_target(postgres_url, parse_replicas(replicas_text))
    return EMBEDDED


def _finish(outcome: Outcome) -> None:
    click.echo(outcome.report())
    if outcome.failed:
        raise SystemExit(1)


@click.group()
def faults() -> None:
    """Inject a fault under a stream of calls and count what was lost or repeated."""


@faults.command("broker-restart")
@_with_common
@click.option("--outage", "outage_s", default=10.0, show_default=True, help="Seconds down.")
def broker_restart(
    calls: int,
    rate: float,
    timeout_s: float,
    postgres_url: str | None,
    replicas_text: str,
    outage_s: float,
) -> None:
    """Kill the broker a third of the way in; start an empty one after --outage seconds."""
    fault = f"broker killed after {calls // 3} of {calls} calls, back empty after {outage_s:g} s"
    target = _target(postgres_url, replicas_text)
    _finish(_run(target, fault, None, calls, rate, outage_s, timeout_s))


@faults.command("kill")
@click.argument("service", type=click.Choice(SERVICES))
@_with_common
@click.option("--down", "down_s", default=5.0, show_default=True, help="Seconds down.")
def kill(
    service: str,
    calls: int,
    rate: float,
    timeout_s: float,
    postgres_url: str | None,
    replicas_text: str,
    down_s: float,
) -> None:
    """SIGKILL SERVICE a third of the way in; start it again after --down seconds."""
    fault = f"{service} killed after {calls // 3} of {calls} calls, back after {down_s:g} s"
    target = _target(postgres_url, replicas_text)
    _finish(_run(target, fault, service, calls, rate, down_s, timeout_s))
