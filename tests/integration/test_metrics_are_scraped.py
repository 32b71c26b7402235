"""Prometheus scrapes each service's ``/metrics``: a call moves the counters, and the alerts fit.

One call goes through the real stack; before and after, all three pages are
read as Prometheus reads them (no token) and parsed with prometheus_client's
own parser. Values are compared before/after, never as absolute numbers. A
poison message moves the dead-letter counter. The alert rules in
``deploy/prometheus/alerts.yml`` may only name metrics the services expose.
"""

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest_asyncio
import yaml
from prometheus_client.parser import text_string_to_metric_families

from services.cli.stack import Tansu
from services.common.access_audit import audited
from services.common.topics import CALLS, TRIAGE
from services.dispatch.domain.escalation import full_window
from tests.support.clock import ManualClock
from tests.support.databases import DatabaseTarget
from tests.support.fake_twilio import AUTH_TOKEN, FakeTwilio, signed_post
from tests.support.flow import submit, until_texted
from tests.support.inprocess import DEMO_CALL, InProcessStack
from tests.support.kafka import orphan_triaged_record, publish
from tests.support.waiting import eventually

SERVICES = ("dispatch", "triage", "notify")
PUBLIC = "https://corespond.example.org"
DEPLOY = Path(__file__).parents[2] / "deploy" / "prometheus"
CALL_RECEIVED = "corespond.call.received.v1"
CALL_TRIAGED = "corespond.call.triaged.v1"
OFFERED = "corespond.assignment.offered.v1"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest_asyncio.fixture
async def stack(
    broker: Tansu, database: DatabaseTarget, roster: Path, tmp_path: Path
) -> AsyncIterator[InProcessStack]:
    """The console SMS backend, with Twilio's status callbacks signed and accepted."""
    notify = {"public_base_url": PUBLIC, "twilio_auth_token": AUTH_TOKEN}
    running = InProcessStack(
        broker.bootstrap, database, tmp_path, roster=roster, overrides={"notify": notify}
    )
    async with running:
        yield running


async def page(stack: InProcessStack, service: str) -> str:
    """``/metrics`` as Prometheus fetches it: no Authorization header."""
    transport = httpx.ASGITransport(app=stack.apps[service])
    async with httpx.AsyncClient(transport=transport, base_url=f"http://{service}") as anonymous:
        response = await anonymous.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


def samples(text: str) -> Samples:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(scraped: Samples, name: str, **labels: str) -> float:
    """The sum of ``name`` over every series carrying ``labels`` (0 when none does)."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in scraped.items() if n == name and wanted <= ls)


def series(scraped: Samples, name: str) -> list[dict[str, str]]:
    return [dict(ls) for (n, ls) in scraped if n == name]


async def scrape_all(stack: InProcessStack) -> dict[str, Samples]:
    return {service: samples(await page(stack, service)) for service in SERVICES}


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


async def test_one_call_moves_every_services_counters(stack: InProcessStack) -> None:
    before = await scrape_all(stack)

    incident_id = await submit(stack.dispatch)
    view = await until_texted(stack.dispatch, incident_id)
    listed = await stack.notify.get("/v1/messages", params={"incident_id": incident_id})
    [message, *_] = listed.json()
    callback = {"MessageSid": message["provider_message_id"], "MessageStatus": "delivered"}
    delivered = await signed_post(
        f"{PUBLIC}/twilio/sms/status", callback, client=stack.notify, path="/twilio/sms/status"
    )
    assert delivered.status_code == 204

    async def settled() -> dict[str, Samples] | None:
        now = await scrape_all(stack)
        done = moved(before["notify"], now["notify"], "corespond_sms_delivery_reports_total")
        return now if done >= 1 else None

    after = await eventually(settled, what="the delivery report counted")
    d0, d1 = before["dispatch"], after["dispatch"]
    t0, t1 = before["triage"], after["triage"]
    n0, n1 = before["notify"], after["notify"]
    requests = "corespond_http_requests_total"
    assert moved(d0, d1, requests, method="POST", route="/v1/calls", status="202") == 1
    latency = "corespond_http_request_duration_seconds_count"
    assert moved(d0, d1, latency, method="POST", route="/v1/calls", status_class="2xx") == 1
    # Ids never become labels: the incident read by its template only.
    assert value(d1, requests, route="/v1/incidents/{incident_id}") >= 1
    assert not any(incident_id in json.dumps(s) for s in series(d1, requests))

    produced, consumed = "corespond_events_produced_total", "corespond_events_consumed_total"
    assert moved(d0, d1, produced, type=CALL_RECEIVED) >= 1
    assert moved(t0, t1, consumed, type=CALL_RECEIVED, outcome="handled") == 1
    assert moved(t0, t1, produced, type=CALL_TRIAGED) >= 1
    assert moved(d0, d1, consumed, type=CALL_TRIAGED, outcome="handled") == 1
    assert moved(d0, d1, produced, type=OFFERED) >= 1
    assert moved(n0, n1, consumed, type=OFFERED, outcome="handled") >= 1

    decision = view["triage"]
    decisions = "corespond_triage_decisions_total"
    model, priority = decision["response_model"], str(decision["priority"])
    assert moved(t0, t1, decisions, response_model=model, priority=priority) == 1

    assert moved(n0, n1, "corespond_sms_sends_total", outcome="sent") >= 1
    assert moved(n0, n1, "corespond_sms_delivery_reports_total", status="delivered") == 1
    assert value(d1, "corespond_dispatch_assignments", status="offered") >= 1
    assert series(d1, "corespond_dispatch_p1_incidents_unaccepted")

    for service in SERVICES:
        scraped = after[service]
        assert series(scraped, "corespond_outbox_unsent_events"), service
        assert series(scraped, "corespond_outbox_oldest_unsent_age_seconds"), service
        lag = series(scraped, "corespond_consumer_lag_messages")
        assert lag, service
        assert all({"topic", "partition"} <= set(ls) for ls in lag), service


async def test_metrics_need_no_token_and_hold_no_personal_data(stack: InProcessStack) -> None:
    incident_id = await submit(stack.dispatch)
    await until_texted(stack.dispatch, incident_id)

    pages = {service: await page(stack, service) for service in SERVICES}

    secrets = [DEMO_CALL["caller"]["phone"], DEMO_CALL["narrative"], incident_id]
    secrets += [DEMO_CALL["location"]["address"], "hearing voices"]
    for service, text in pages.items():
        for secret in secrets:
            assert secret not in text, (service, secret)
        # No phone number of any shape (the roster's units have them too).
        assert not re.search(r"\+\d{10,15}", text), service
    for service in SERVICES:
        spec = (await stack.clients[service].get("/openapi.json")).json()
        assert "/metrics" not in spec["paths"], service
    assert not audited("/metrics")  # a scrape every 15 s must not fill the audit trail


async def test_a_dead_letter_is_counted(stack: InProcessStack) -> None:
    before = samples(await page(stack, "triage"))

    await publish(stack.bootstrap, CALLS, b'{"specversion": "1.0", "id": ', key=b"garbage")

    async def counted() -> float:
        after = samples(await page(stack, "triage"))
        letters = "corespond_dead_letters_total"
        return moved(before, after, letters, topic=CALLS, reason="unparseable")

    assert await eventually(counted, what="the dead letter counted") == 1
    after = samples(await page(stack, "triage"))
    consumed = "corespond_events_consumed_total"
    assert moved(before, after, consumed, type="(unknown)", outcome="dead_lettered") == 1


async def test_a_handler_that_keeps_failing_counts_retries_then_a_dead_letter(
    stack: InProcessStack,
) -> None:
    before = samples(await page(stack, "dispatch"))
    await publish(stack.bootstrap, TRIAGE, orphan_triaged_record(), key=b"no-such-incident")

    async def counted() -> Samples | None:
        after = samples(await page(stack, "dispatch"))
        letters = "corespond_dead_letters_total"
        failed = moved(before, after, letters, topic=TRIAGE, reason="handler_failed")
        return after if failed else None

    after = await eventually(counted, what="the dead letter counted")
    attempts = stack.runtime("dispatch").settings.consumer_max_attempts
    consumed = "corespond_events_consumed_total"
    assert moved(before, after, consumed, type=CALL_TRIAGED, outcome="retried") == attempts - 1
    assert moved(before, after, consumed, type=CALL_TRIAGED, outcome="dead_lettered") == 1


OVERDOSE = {
    **DEMO_CALL,
    "narrative": "found my roommate nodding out, lips turning blue, he uses fentanyl",
    "answers": {"overdose_suspected": True, "conscious": False},
}


async def test_a_p1_nobody_accepts_shows_once_its_escalation_window_has_passed(
    broker: Tansu, database: DatabaseTarget, roster: Path, tmp_path: Path
) -> None:
    clock = ManualClock()
    # Timers stay out of the way (one tick at start): offers stay open as the clock moves.
    overrides = {"dispatch": {"timer_poll_interval_s": 3600}}
    stack = InProcessStack(
        broker.bootstrap,
        database,
        tmp_path,
        roster=roster,
        dispatch_clock=clock,
        overrides=overrides,
    )
    async with stack:
        view = await until_texted(stack.dispatch, await submit(stack.dispatch, OVERDOSE))
        assert view["triage"]["priority"] == 1
        unaccepted = "corespond_dispatch_p1_incidents_unaccepted"
        assert value(samples(await page(stack, "dispatch")), unaccepted) == 0

        policies = stack.apps["dispatch"].state.dispatch.policies
        window = full_window(policies.get(view["jurisdiction"]).dispatch.escalation[1])
        clock.advance(window.total_seconds() - 1)
        assert value(samples(await page(stack, "dispatch")), unaccepted) == 0
        clock.advance(2)
        assert value(samples(await page(stack, "dispatch")), unaccepted) == 1

        offer = view["assignments"][0]["id"]
        accepted = await stack.dispatch.post(
            f"/v1/assignments/{offer}/status", json={"status": "accepted"}
        )
        assert accepted.status_code == 200, accepted.text
        assert value(samples(await page(stack, "dispatch")), unaccepted) == 0


def exposed_names(text: str) -> set[str]:
    """Every name a PromQL expression can use, including those with no sample yet
    (a labelled counter nobody incremented shows only its HELP and TYPE)."""
    names: set[str] = set()
    suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_count", "_sum"]}
    for family in text_string_to_metric_families(text):
        names.add(family.name)
        names.update(family.name + suffix for suffix in suffixes.get(family.type, []))
        names.update(s.name for s in family.samples)
    return names


def alert_rules() -> list[dict[str, Any]]:
    document = yaml.safe_load((DEPLOY / "alerts.yml").read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


async def test_alert_rules_name_only_metrics_the_services_expose(stack: InProcessStack) -> None:
    exposed: set[str] = set()
    for service in SERVICES:
        exposed |= exposed_names(await page(stack, service))

    rules = alert_rules()
    assert rules
    for rule in rules:
        for key in ("alert", "expr", "for"):
            assert rule.get(key), (key, rule)
        assert rule["labels"]["severity"] in {"page", "ticket"}, rule
        assert rule["annotations"]["summary"], rule
        assert rule["annotations"]["description"], rule
        used = set(re.findall(r"\bcorespond_[a-z0-9_]+", rule["expr"]))
        assert used <= exposed, (rule["alert"], used - exposed)


def test_the_scrape_config_names_every_service() -> None:
    config = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    assert "alerts.yml" in config["rule_files"]
    # Every replica of each service, found through DNS, on the containers' port.
    discovered = {
        (name, sd["port"])
        for job in config["scrape_configs"]
        for sd in job.get("dns_sd_configs", [])
        for name in sd["names"]
    }
    assert {("dispatch", 8000), ("triage", 8000), ("notify", 8000)} <= discovered


async def test_an_sms_the_provider_refuses_counts_as_failed(
    broker: Tansu, sqlite_db: DatabaseTarget, tmp_path: Path
) -> None:
    refused = "+17205550599"
    fake = FakeTwilio(refuse={refused: 21610})  # unsubscribed: permanent, no retry
    fake.start()
    roster = tmp_path / "roster.json"
    only_unit = {"call_sign": "STAR-9", "agency": "STAR", "roles": ["clinician"], "phone": refused}
    roster.write_text(json.dumps([{**only_unit, "lat": 39.7392, "lon": -104.9903}]))
    stack = InProcessStack(
        broker.bootstrap,
        sqlite_db,
        tmp_path,
        roster=roster,
        overrides={"notify": fake.notify_settings()},
    )
    try:
        async with stack:
            before = samples(await page(stack, "notify"))
            await submit(stack.dispatch)

            async def failed() -> float:
                after = samples(await page(stack, "notify"))
                return moved(before, after, "corespond_sms_sends_total", outcome="failed")

            assert await eventually(failed, what="the refused SMS counted") == 1
            after = samples(await page(stack, "notify"))
            assert moved(before, after, "corespond_sms_sends_total", outcome="sent") == 0
            assert refused not in await page(stack, "notify")
    finally:
        fake.stop()
