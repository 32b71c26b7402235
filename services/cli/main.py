"""``corespond``: run the stack, migrate databases, import units, replay dead letters, keys.

Each command's module is imported only when that command runs: importing them
all (FastAPI apps, ORM models, Alembic, argon2) cost every invocation over a
second, and operators, scripts and the tests run many short commands.
"""

import importlib

import click

# command name -> "module:attribute"
COMMANDS = {
    "up": "services.cli.up:up",
    "addresses": "services.cli.addresses:addresses",
    "dlq": "services.cli.dlq:dlq",
    "topics": "services.cli.topics:topics",
    "bench": "services.cli.bench:bench",
    "faults": "services.cli.faults:faults",
    "triage": "services.cli.triage:triage",
    "units": "services.cli.units:units",
    "providers": "services.cli.providers:providers",
    "users": "services.cli.accounts:users",
    "clients": "services.cli.accounts:clients",
    "audit": "services.cli.accounts:audit",
    "token": "services.cli.accounts:token",
    "keys": "services.cli.keys:keys",
    "incidents": "services.cli.incidents:incidents",
    "db": "services.cli.db:db",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported by name on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """corespond — co-responder dispatch over Kafka."""


def main() -> None:
    cli()
