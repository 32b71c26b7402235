"""``corespond providers import``: load a provider directory into dispatch, from today's
JSON list or from an Open Referral HSDS 3.0 document (told apart by its shape).

The file is checked whole first; any bad entry stops the import before
anything is written, with every problem listed by entry (or HSDS path) and field. An entry
whose organisation and service name are already listed is left as it is
(update capacity through ``PATCH /v1/providers/{id}``).
"""

import sys
from pathlib import Path

import click

from services.cli.api_client import dispatch_client, dispatch_options, get_list, send
from services.dispatch.adapters.provider_files import ProviderFileError, read_providers


@click.group()
def providers() -> None:
    """Treatment providers for warm handoffs."""


@providers.command("import")
@click.argument("directory", type=click.Path(path_type=Path, dir_okay=False))
@dispatch_options
def import_providers(directory: Path, url: str, token: str | None, data_dir: Path) -> None:
    """Add every provider service in DIRECTORY (.json: today's list or HSDS 3.0) not listed yet."""
    try:
        entries = read_providers(directory)
    except ProviderFileError as exc:
        click.echo(str(exc), err=True)
        click.echo("nothing imported", err=True)
        sys.exit(1)
    added = kept = 0
    with dispatch_client(url, token, data_dir) as client:
        listed = {(p["organization"], p["service_name"]) for p in get_list(client, "/v1/providers")}
        for entry in entries:
            if (entry.organization, entry.service.name) in listed:
                kept += 1
                continue
            send(client, "POST", "/v1/providers", entry.model_dump(mode="json"), entry.organization)
            added += 1
    click.echo(f"{added} added, {kept} already listed, from {directory}")
