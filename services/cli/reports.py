"""``corespond reports outcomes``: the outcome report from a running dispatch, over its HTTP API.

A span longer than ``--step-days`` (31) is asked for in consecutive periods of
that length, one request each, with a progress bar on stderr; each period is
its own report (medians and suppressed cells cannot be added up across
periods), so the output has one block per period: JSON objects in a list, or
CSV rows with the period in the first two columns. ``--whole`` asks for the
whole span in one request instead.
"""

import csv
import io
import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
import httpx

from services.cli.api_client import dispatch_client, dispatch_options

OUTCOMES = "/v1/reports/outcomes"


def periods(since: datetime, until: datetime, step: timedelta) -> list[tuple[datetime, datetime]]:
    """[since, until) cut into consecutive periods of ``step`` (the last may be shorter)."""
    found = []
    start = since
    while start < until:
        end = min(start + step, until)
        found.append((start, end))
        start = end
    return found


def fetch(
    client: httpx.Client,
    spans: list[tuple[datetime, datetime]],
    *,
    jurisdiction: str | None = None,
    program: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Each period's report (JSON), in order."""
    for start, end in spans:
        params = {"since": start.isoformat(), "until": end.isoformat()}
        if jurisdiction:
            params["jurisdiction"] = jurisdiction
        if program:
            params["program"] = program
        try:
            response = client.get(OUTCOMES, params=params)
        except httpx.HTTPError as exc:
            raise click.ClickException(
                f"cannot reach dispatch at {client.base_url}: {exc}"
            ) from exc
        if response.status_code != 200:
            detail = response.json().get("detail", response.text) if response.content else ""
            raise click.ClickException(f"GET {OUTCOMES}: {response.status_code} {detail}")
        found: dict[str, Any] = response.json()
        yield found


def as_csv(reports: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["since", "until", "section", "program", "week", "name", "value", "suppressed"])
    for report in reports:
        for f in report["figures"]:
            value = "" if f["value"] is None else f["value"]
            writer.writerow(
                [
                    report["since"],
                    report["until"],
                    f["section"],
                    f["program"],
                    f["week"],
                    f["name"],
                    value,
                    f["suppressed"],
                ]
            )
    return out.getvalue()


def _instant(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@click.group()
def reports() -> None:
    """Program figures from a running dispatch (nothing personal)."""


@reports.command("outcomes")
@click.option("--since", type=click.DateTime(), required=True, help="from (UTC)")
@click.option("--until", type=click.DateTime(), required=True, help="to (UTC), excluded")
@click.option("--jurisdiction", default=None)
@click.option(
    "--program",
    type=click.Choice(["police", "co_responder", "clinician", "firehouse", "telehealth"]),
    default=None,
)
@click.option("--csv", "as_csv_flag", is_flag=True, help="CSV instead of JSON")
@click.option("--step-days", type=click.IntRange(1, 366), default=31, show_default=True)
@click.option("--whole", is_flag=True, help="one report for the whole span, one request")
@dispatch_options
def outcomes(
    since: datetime,
    until: datetime,
    jurisdiction: str | None,
    program: str | None,
    as_csv_flag: bool,
    step_days: int,
    whole: bool,
    url: str,
    token: str | None,
    data_dir: Path,
) -> None:
    """Deflection, time to scene and handoff, naloxone, follow-ups, repeat calls."""
    start, end = _instant(since), _instant(until)
    if start >= end:
        raise click.BadParameter("must be before --until", param_hint="--since")
    spans = [(start, end)] if whole else periods(start, end, timedelta(days=step_days))
    found: list[dict[str, Any]] = []
    with dispatch_client(url, token, data_dir) as client:
        answers = fetch(client, spans, jurisdiction=jurisdiction, program=program)
        if len(spans) == 1:
            found = list(answers)
        else:
            with click.progressbar(length=len(spans), label="periods", file=sys.stderr) as bar:
                for answer in answers:
                    found.append(answer)
                    bar.update(1)
    if as_csv_flag:
        click.echo(as_csv(found), nl=False)
    else:
        click.echo(json.dumps(found[0] if len(found) == 1 else found, indent=2))
