"""One call can be followed across the three services: one trace, and its ids on every log line.

With an OTLP endpoint configured, the three real services (one process, a real
broker and databases) export their spans to a fake collector: the call's HTTP
request, each event's produce and consume, and the SQL they ran hang in one
trace, linked service to service. Without one, nothing is exported and no
provider exists, yet the trace id still travels in the events and the logs.
"""

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from services.cli.stack import Tansu
from services.common.logs import JsonFormatter
from tests.support.databases import DatabaseTarget
from tests.support.flow import until_texted
from tests.support.inprocess import DEMO_CALL, InProcessStack
from tests.support.otlp_collector import Exported, OtlpCollector

SERVICES = ("dispatch", "triage", "notify")
# A call-taker's CAD system that traces its own work sends its trace along.
CAD_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CAD_TRACEPARENT = f"00-{CAD_TRACE_ID}-00f067aa0ba902b7-01"


class JsonLines(logging.Handler):
    """Log lines rendered as the services render them, at the moment they are logged
    (the ids bound for the work at hand live in a context variable)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(JsonFormatter("test"))
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))

    def first(self, event: str) -> dict[str, Any]:
        return next(line for line in self.lines if line["event"] == event)


@pytest.fixture
def collector() -> Iterator[OtlpCollector]:
    with OtlpCollector() as running:
        yield running


async def _call_through(stack: InProcessStack, lines: JsonLines) -> tuple[str, str]:
    """Submit the demo call with a CAD trace and request id; wait until it is texted."""
    root = logging.getLogger()
    # After the services started: each service's start configures the root logger.
    root.addHandler(lines)
    root.setLevel(logging.INFO)
    try:
        response = await stack.dispatch.post(
            "/v1/calls",
            json=DEMO_CALL,
            headers={"traceparent": CAD_TRACEPARENT, "X-Request-ID": "cad-call-4711"},
        )
        assert response.status_code == 202, response.text
        incident_id: str = response.json()["incident_id"]
        await until_texted(stack.dispatch, incident_id)
    finally:
        root.removeHandler(lines)
    return incident_id, "cad-call-4711"


def _values(span: Exported) -> list[str]:
    return [span.name, *(str(v) for v in span.attributes.values())]


async def test_a_call_is_one_trace_across_three_services(
    broker: Tansu,
    database: DatabaseTarget,
    roster: Path,
    tmp_path: Path,
    collector: OtlpCollector,
) -> None:
    traced = {"otel_exporter_otlp_endpoint": collector.endpoint}
    lines = JsonLines()
    async with InProcessStack(
        broker.bootstrap,
        database,
        tmp_path,
        roster=roster,
        overrides={name: traced for name in SERVICES},
    ) as stack:
        for name in SERVICES:
            assert stack.runtime(name).telemetry.provider is not None
        incident_id, _ = await _call_through(stack, lines)
    # Stopping flushed every service's spans to the collector.

    trace = [s for s in collector.spans if s.trace_id == CAD_TRACE_ID]
    by_id = {s.span_id: s for s in trace}
    assert {s.service for s in trace} == {f"corespond-{name}" for name in SERVICES}

    [http] = [s for s in trace if s.kind == "server" and s.service == "corespond-dispatch"]
    assert http.name == "POST /v1/calls"
    assert http.parent_span_id == "00f067aa0ba902b7"  # the CAD's span
    assert http.attributes["http.route"] == "/v1/calls"
    assert http.attributes["http.request.method"] == "POST"
    assert http.attributes["http.response.status_code"] == 202

    # dispatch's produce of call.received → triage's consume of it, under the request.
    # (Lists, not one span each: a retried publish or a redelivery adds a span.)
    sent = [
        s
        for s in trace
        if s.kind == "producer"
        and s.service == "corespond-dispatch"
        and s.attributes["cloudevents.event_type"] == "corespond.call.received.v1"
    ]
    assert sent
    assert all(s.parent_span_id == http.span_id for s in sent)
    assert {s.attributes["messaging.system"] for s in sent} == {"kafka"}
    assert {s.attributes["messaging.destination.name"] for s in sent} == {"corespond.calls"}
    consumed = next(
        s
        for s in trace
        if s.kind == "consumer"
        and s.service == "corespond-triage"
        and s.parent_span_id in {p.span_id for p in sent}
    )
    assert consumed.attributes["messaging.message.id"] == sent[0].attributes["messaging.message.id"]
    # ... whose call.triaged is produced under that consume, and consumed by dispatch.
    triaged = next(
        s
        for s in trace
        if s.kind == "producer" and s.attributes["cloudevents.event_type"].endswith("triaged.v1")
    )
    assert triaged.parent_span_id == consumed.span_id
    assert any(s.kind == "consumer" and s.parent_span_id == triaged.span_id for s in trace)
    # notify took part too: it consumed the offer under dispatch's produce.
    assert any(
        s.kind == "consumer"
        and s.service == "corespond-notify"
        and by_id.get(s.parent_span_id or "", http).kind == "producer"
        for s in trace
    )

    # One tree: every span hangs under another of this trace, up to the request.
    orphans = [
        (s.service, s.name) for s in trace if s is not http and s.parent_span_id not in by_id
    ]
    assert orphans == []

    # SQL, each statement a child of the span that ran it, without its parameters.
    db_spans = [s for s in trace if s.kind == "client"]
    assert {s.service for s in db_spans} == {f"corespond-{name}" for name in SERVICES}
    assert all(s.parent_span_id in by_id for s in db_spans)
    assert any(s.parent_span_id == http.span_id for s in db_spans)
    assert any(s.parent_span_id == consumed.span_id for s in db_spans)
    assert {s.attributes["db.system"] for s in db_spans} == {
        "postgresql" if database.kind == "postgres" else "sqlite"
    }

    # No personal data in any span of any trace.
    personal = [
        DEMO_CALL["caller"]["phone"],
        DEMO_CALL["location"]["address"],
        *DEMO_CALL["narrative"].split(", "),
    ]
    leaked = [
        (span.name, value)
        for span in collector.spans
        for value in _values(span)
        for secret in personal
        if secret and secret in value
    ]
    assert leaked == []
    # Paths are named by their template, not by the ids (or link tokens) they hold.
    polled = {s.name for s in collector.spans if s.kind == "server"}
    assert "GET /v1/incidents/{incident_id}" in polled
    assert not any(incident_id in name for name in polled)
    assert incident_id in {s.attributes.get("corespond.incident_id") for s in trace}


async def test_untraced_services_export_nothing_but_logs_carry_the_ids(
    broker: Tansu,
    sqlite_db: DatabaseTarget,
    roster: Path,
    tmp_path: Path,
    collector: OtlpCollector,
) -> None:
    lines = JsonLines()
    async with InProcessStack(broker.bootstrap, sqlite_db, tmp_path, roster=roster) as stack:
        for name in SERVICES:
            assert stack.runtime(name).telemetry.provider is None
        incident_id, request_id = await _call_through(stack, lines)
    assert collector.requests == 0

    # The request's line in dispatch, and the handling of its events in each service,
    # carry the CAD's trace id, the incident and the request id as correlation.
    for event in ("dispatch.call_accepted", "triage.decided", "dispatch.triaged"):
        line = lines.first(event)
        assert line["trace_id"] == CAD_TRACE_ID, event
        assert line["incident_id"] == incident_id, event
        assert line["correlation_id"] == request_id, event
    sms = lines.first("sms.console_sent")
    assert sms["trace_id"] == CAD_TRACE_ID
