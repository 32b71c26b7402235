"""``corespond units import``: load a roster (CSV or JSON) into a running dispatch service.

The file is checked whole first; any bad row stops the import before anything
is written, with every problem listed by row and field. Units are matched by
call sign: new ones are created, known ones updated, so re-importing an
edited roster is safe. Everything goes through the public API, with its
authentication and validation.
"""

import os
import sys
from pathlib import Path
from typing import Any

import click
import httpx

from services.dispatch.adapters.roster import RosterError, read_roster


def _token(explicit: str | None, data_dir: Path) -> str:
    if explicit:
        return explicit
    if os.environ.get("CORESPOND_TOKEN"):
        return os.environ["CORESPOND_TOKEN"]
    path = data_dir / "bootstrap-token"
    if path.exists():
        return path.read_text().strip()
    raise click.UsageError(
        f"no token: pass --token, set CORESPOND_TOKEN, or run `corespond up` (writes {path})"
    )


# What PATCH may change; status and location are the units' own reports.
EDITABLE = ("agency", "roles", "capabilities", "languages", "phone")


@click.group()
def units() -> None:
    """Responder units."""


@units.command("import")
@click.argument("roster", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--url", default="http://127.0.0.1:8000", show_default=True, help="dispatch")
@click.option(
    "--token",
    default=None,
    help="bearer token (default: CORESPOND_TOKEN, then .corespond/bootstrap-token)",
)
@click.option(
    "--data-dir", type=click.Path(path_type=Path), default=Path(".corespond"), show_default=True
)
def import_units(roster: Path, url: str, token: str | None, data_dir: Path) -> None:
    """Create or update every unit in ROSTER (.csv or .json)."""
    try:
        wanted = read_roster(roster)
    except RosterError as exc:
        click.echo(str(exc), err=True)
        click.echo("nothing imported", err=True)
        sys.exit(1)
    headers = {"Authorization": f"Bearer {_token(token, data_dir)}"}
    created = updated = 0
    with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
        existing = _get(client, "/v1/units")
        by_sign = {u["call_sign"]: u["id"] for u in existing}
        for unit in wanted:
            body: dict[str, Any] = unit.model_dump(mode="json", exclude_none=True)
            if unit.call_sign in by_sign:
                changes: dict[str, Any] = {k: body[k] for k in EDITABLE if k in body}
                path = f"/v1/units/{by_sign[unit.call_sign]}"
                _send(client, "PATCH", path, changes, unit.call_sign)
                updated += 1
            else:
                _send(client, "POST", "/v1/units", body, unit.call_sign)
                created += 1
    click.echo(f"{created} created, {updated} updated from {roster}")


def _get(client: httpx.Client, path: str) -> list[dict[str, Any]]:
    try:
        response = client.get(path)
    except httpx.HTTPError as exc:
        raise click.ClickException(f"cannot reach dispatch at {client.base_url}: {exc}") from exc
    if response.status_code != 200:
        raise click.ClickException(f"GET {path}: {response.status_code} {response.text}")
    units: list[dict[str, Any]] = response.json()
    return units


def _send(client: httpx.Client, method: str, path: str, body: dict[str, Any], sign: str) -> None:
    response = client.request(method, path, json=body)
    if response.status_code not in (200, 201):
        detail = response.json().get("detail", response.text) if response.content else ""
        raise click.ClickException(f"{sign}: {method} {path}: {response.status_code} {detail}")
