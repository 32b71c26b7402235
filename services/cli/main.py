"""``corespond``: run the stack, migrate databases, import units, replay dead letters, keys."""

import click

from services.cli.accounts import audit, clients, token, users
from services.cli.addresses import addresses
from services.cli.bench import bench
from services.cli.db import db
from services.cli.dlq import dlq
from services.cli.faults import faults
from services.cli.incidents import incidents
from services.cli.keys import keys
from services.cli.providers import providers
from services.cli.topics import topics
from services.cli.triage import triage
from services.cli.units import units
from services.cli.up import up


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """corespond — co-responder dispatch over Kafka."""


cli.add_command(up)
cli.add_command(dlq)
cli.add_command(topics)
cli.add_command(bench)
cli.add_command(faults)
cli.add_command(triage)
cli.add_command(units)
cli.add_command(addresses)
cli.add_command(providers)
cli.add_command(users)
cli.add_command(clients)
cli.add_command(audit)
cli.add_command(token)
cli.add_command(keys)
cli.add_command(incidents)
cli.add_command(db)


def main() -> None:
    cli()
