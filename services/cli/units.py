"""``corespond units import``: load a roster (CSV or JSON) into a running dispatch service.

The file is checked whole first; any bad row stops the import before anything
is written, with every problem listed by row and field. Units are matched by
call sign: new ones are created, known ones updated, so re-importing an
edited roster is safe. Everything goes through the public API, with its
authentication and validation.
"""

import sys
from pathlib import Path
from typing import Any

import click

from services.cli.api_client import dispatch_client, dispatch_options, get_list, send
from services.dispatch.adapters.roster import RosterError, read_roster

# What PATCH may change; status and location are the units' own reports.
EDITABLE = (
    "agency",
    "roles",
    "capabilities",
    "languages",
    "phone",
    "jurisdiction",
    "service_area",
)


@click.group()
def units() -> None:
    """Responder units."""


@units.command("import")
@click.argument("roster", type=click.Path(path_type=Path, dir_okay=False))
@dispatch_options
def import_units(roster: Path, url: str | None, token: str | None, data_dir: Path) -> None:
    """Create or update every unit in ROSTER (.csv or .json)."""
    try:
        wanted = read_roster(roster)
    except RosterError as exc:
        click.echo(str(exc), err=True)
        click.echo("nothing imported", err=True)
        sys.exit(1)
    created = updated = 0
    with dispatch_client(url, token, data_dir) as client:
        existing = get_list(client, "/v1/units")
        by_sign = {u["call_sign"]: u["id"] for u in existing}
        for unit in wanted:
            body: dict[str, Any] = unit.model_dump(mode="json", exclude_none=True)
            if unit.call_sign in by_sign:
                changes: dict[str, Any] = {k: body[k] for k in EDITABLE if k in body}
                path = f"/v1/units/{by_sign[unit.call_sign]}"
                send(client, "PATCH", path, changes, unit.call_sign)
                updated += 1
            else:
                send(client, "POST", "/v1/units", body, unit.call_sign)
                created += 1
    click.echo(f"{created} created, {updated} updated from {roster}")
