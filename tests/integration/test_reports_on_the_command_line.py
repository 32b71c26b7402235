"""``corespond reports outcomes`` asks a real dispatch for its figures, period by period.

The command's HTTP client is the real one; its transport hands each request to
the in-process dispatch on its own loop (as uvicorn would), so no port is needed.
"""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import httpx
import pytest

from services.cli.reports import as_csv, fetch, periods
from services.cli.stack import Tansu
from tests.support.databases import sqlite_target
from tests.support.inprocess import InProcessStack
from tests.support.stack_thread import StackThread


class ToTheStack(httpx.BaseTransport):
    """A synchronous transport into the stack's dispatch app."""

    def __init__(self, stack: StackThread) -> None:
        self.stack = stack

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        answer = self.stack.request(
            "dispatch", request.method, str(request.url), content=request.read()
        )
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)


@pytest.fixture
def dispatch(tmp_path: Path) -> Iterator[httpx.Client]:
    tansu = Tansu()
    tansu.start()
    try:
        stack = InProcessStack(tansu.bootstrap, sqlite_target(tmp_path), tmp_path)
        with (
            StackThread(stack) as running,
            httpx.Client(transport=ToTheStack(running), base_url="http://dispatch") as client,
        ):
            yield client
    finally:
        tansu.stop()


def test_a_long_span_is_asked_for_in_periods() -> None:
    since = datetime(2026, 1, 1, tzinfo=UTC)
    found = periods(since, datetime(2026, 3, 10, tzinfo=UTC), timedelta(days=31))
    assert found == [
        (since, datetime(2026, 2, 1, tzinfo=UTC)),
        (datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 3, 4, tzinfo=UTC)),
        (datetime(2026, 3, 4, tzinfo=UTC), datetime(2026, 3, 10, tzinfo=UTC)),
    ]


def test_each_period_is_its_own_report_in_json_and_csv(dispatch: httpx.Client) -> None:
    since = datetime(2026, 1, 1, tzinfo=UTC)
    spans = periods(since, since + timedelta(days=70), timedelta(days=31))
    reports = list(fetch(dispatch, spans, jurisdiction="default"))

    answered = [
        (datetime.fromisoformat(r["since"]), datetime.fromisoformat(r["until"])) for r in reports
    ]
    assert answered == spans
    for report in reports:
        figures = {(f["section"], f["name"]): f["value"] for f in report["figures"]}
        assert figures[("calls", "incidents")] == 0
    lines = as_csv(reports).splitlines()
    assert lines[0] == "since,until,section,program,week,name,value,suppressed"
    assert len(lines) == 1 + sum(len(r["figures"]) for r in reports)


def test_a_refused_request_is_a_cli_error_naming_it(dispatch: httpx.Client) -> None:
    since = datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(click.ClickException, match="at most 731 days"):
        list(fetch(dispatch, [(since, since + timedelta(days=800))]))
