"""``corespond incidents purge``: the retention purge on demand (dispatch and triage run it daily).

Incidents closed more than ``CORESPOND_INCIDENT_RETENTION_DAYS`` ago lose their
personal fields in dispatch, and triage's decisions of that age lose their
evidence; the statistics stay. ``--dry-run`` counts without changing anything.
"""

import asyncio
from pathlib import Path

import click

from services.cli.service_databases import chosen, data_dir_option, open_database, service_option
from services.common.clock import SystemClock
from services.dispatch.app.retention import purge_expired as purge_dispatch
from services.triage.app.retention import purge_expired as purge_triage

PURGING = ("dispatch", "triage")


@click.group()
def incidents() -> None:
    """Incidents kept by the services."""


@incidents.command("purge")
@click.option("--dry-run", is_flag=True, help="Count what would be purged; change nothing.")
@service_option(PURGING)
@data_dir_option
def purge(dry_run: bool, service: str, data_dir: Path) -> None:
    """Purge personal fields of incidents past the retention setting."""
    for line in asyncio.run(_purge(chosen(service, PURGING), data_dir, dry_run)):
        click.echo(line)


async def _purge(names: list[str], data_dir: Path, dry_run: bool) -> list[str]:
    now = SystemClock().now()
    would = "would be " if dry_run else ""
    lines = []
    for name in names:
        async with open_database(name, data_dir) as opened:
            if opened is None:
                lines.append(f"{name}: no database in {data_dir}, skipped")
                continue
            days = opened.settings.incident_retention_days
            if name == "dispatch":
                report = await purge_dispatch(opened.db, now, days, dry_run=dry_run)
                lines.append(
                    f"dispatch: {report.incidents} incidents closed before "
                    f"{report.cutoff:%Y-%m-%d} {would}purged ({report.timeline_entries} timeline "
                    f"entries, {report.assignments} override reasons), "
                    f"{report.outbox_events} published events {would}deleted"
                )
            else:
                decided = await purge_triage(opened.db, now, days, dry_run=dry_run)
                lines.append(
                    f"triage: {decided.decisions} decisions made before "
                    f"{decided.cutoff:%Y-%m-%d} {would}purged of their evidence, "
                    f"{decided.outbox_events} published events {would}deleted"
                )
    return lines
