"""``corespond keys generate|rotate``: master keys for personal fields at rest.

Rotation, in four steps (README, "Privacy"): generate a key; put it first in
``CORESPOND_DATA_KEYS`` (old key after it) and restart the services, so new
values use it; ``corespond keys rotate`` re-wraps every stored data key under it;
remove the old key and restart. Re-wrapping changes only the small wrapped data
key of each value, never its ciphertext, and never undoes a concurrent write.
"""

import asyncio
import sys
from pathlib import Path

import click

from services.cli.service_databases import (
    TABLES,
    chosen,
    data_dir_option,
    open_database,
    service_option,
)
from services.common.field_crypto import generate_key
from services.common.key_rotation import RotationReport, rewrap_stored_values

SHOWN_PROBLEMS = 5


@click.group()
def keys() -> None:
    """Master keys for personal fields at rest (CORESPOND_DATA_KEYS)."""


@keys.command("generate")
def generate() -> None:
    """Print a new master key (a Fernet key). Keep it in your secret store."""
    click.echo(generate_key())


@keys.command("rotate")
@service_option(tuple(TABLES))
@data_dir_option
def rotate(service: str, data_dir: Path) -> None:
    """Re-wrap every stored data key under the first key of CORESPOND_DATA_KEYS."""
    reports = asyncio.run(_rotate(chosen(service, tuple(TABLES)), data_dir))
    undecryptable = [where for report in reports.values() for where in report.undecryptable]
    for name, report in reports.items():
        click.echo(
            f"{name}: {report.rewrapped} values re-wrapped under the first key, "
            f"{report.already_current} already were"
            + (
                f", {report.changed_meanwhile} rewritten meanwhile by the service"
                if report.changed_meanwhile
                else ""
            )
        )
    if undecryptable:
        click.echo(
            f"{len(undecryptable)} values open with none of the keys given, e.g. "
            + "; ".join(undecryptable[:SHOWN_PROBLEMS])
            + ". Keep every old key until they are found.",
            err=True,
        )
        sys.exit(1)
    if reports:
        click.echo(
            "Every value now opens with the first key alone: remove the others from "
            "CORESPOND_DATA_KEYS (or the data-keys file) and restart the services."
        )


async def _rotate(names: list[str], data_dir: Path) -> dict[str, RotationReport]:
    reports: dict[str, RotationReport] = {}
    for name in names:
        async with open_database(name, data_dir) as opened:
            if opened is None:
                click.echo(f"{name}: no database in {data_dir}, skipped")
                continue
            reports[name] = await rewrap_stored_values(opened.db, TABLES[name])
    return reports
