"""``corespond addresses import FILE``: the address points address-only calls are geocoded from.

Written straight into dispatch's database (the settings dispatch reads:
``DATABASE_URL`` or ``--data-dir``), like accounts, so a jurisdiction's whole
address file (often hundreds of thousands of points) needs no HTTP upload.
The file is checked whole first; any problem is reported by file, line and
field, exits non-zero and writes nothing. Importing a file again replaces the
points it brought before (``--dataset`` names it; default: the file's name).
"""

from pathlib import Path

import click

from services.cli.accounts import _run, data_dir_option
from services.common.outbox import UnitOfWork
from services.dispatch.app import addresses as address_points


@click.group()
def addresses() -> None:
    """Address points for offline geocoding (OpenAddresses CSV or GeoJSON)."""


@addresses.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--dataset",
    default=None,
    help="name of this set of points; importing the same name again replaces it "
    "(default: the file's name)",
)
@data_dir_option
def import_addresses(file: Path, dataset: str | None, data_dir: Path) -> None:
    """Check FILE whole, then store its address points in dispatch's database."""
    try:
        points = address_points.read_file(file)
    except address_points.AddressFileError as exc:
        raise click.ClickException(str(exc)) from exc
    name = (dataset or file.name)[:128]

    async def work(uow: UnitOfWork) -> int:
        return await address_points.replace(uow, name, points)

    replaced = _run(data_dir, work, "addresses.import")
    click.echo(
        f"imported {len(points)} address points from {file} as dataset {name!r}"
        + (f" (replacing {replaced})" if replaced else "")
    )
