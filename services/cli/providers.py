"""``corespond providers import``: load a provider directory into dispatch, from today's
JSON list or from an Open Referral HSDS 3.0 document (told apart by its shape).

The file is checked whole first; any bad entry stops the import before
anything is written, with every problem listed by entry (or HSDS path) and field. An entry
whose organisation and service name are already listed is left as it is
(update capacity through ``PATCH /v1/providers/{id}``).
"""

import sys
from collections.abc import Sequence
from pathlib import Path

import click
import httpx

from services.cli.api_client import dispatch_client, dispatch_options, get_list, send
from services.dispatch.adapters.provider_files import ProviderFileError, ProviderIn
from services.dispatch.adapters.provider_files import read_providers as read_providers


@click.group()
def providers() -> None:
    """Treatment providers for warm handoffs."""


@providers.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@dispatch_options
def import_providers(file: Path, url: str | None, token: str | None, data_dir: Path) -> None:
    """Add every provider service in FILE (.json: today's list or HSDS 3.0) not listed yet."""
    try:
        entries = read_providers(file)
    except ProviderFileError as exc:
        click.echo(str(exc), err=True)
        click.echo("nothing imported", err=True)
        sys.exit(1)
    with dispatch_client(url, token, data_dir) as client:
        added, kept = add_missing(client, entries)
    click.echo(f"{added} added, {kept} already listed, from {file}")


def add_missing(client: httpx.Client, entries: Sequence[ProviderIn]) -> tuple[int, int]:
    """Add the entries whose organisation and service are not listed; (added, kept)."""
    added = kept = 0
    listed = {(p["organization"], p["service_name"]) for p in get_list(client, "/v1/providers")}
    for entry in entries:
        if (entry.organization, entry.service.name) in listed:
            kept += 1
            continue
        send(client, "POST", "/v1/providers", entry.model_dump(mode="json"), entry.organization)
        added += 1
    return added, kept
