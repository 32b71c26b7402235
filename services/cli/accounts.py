"""``corespond users``, ``corespond clients``, ``corespond audit``, ``corespond token``.

Accounts and the audit trail are managed on dispatch's own database (the
settings dispatch reads: ``DATABASE_URL`` or ``--data-dir``), so the first
admin can be created before anyone can sign in. Every change is audited as
done by the CLI, and revocations reach the running services through
dispatch's outbox.
"""

import asyncio
import getpass
import secrets
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import click
from pydantic import ValidationError

from services.cli.data_keys import configured_keys
from services.cli.local_auth import auth_secret, operator_token
from services.common import audit as audit_log
from services.common import migrations
from services.common.clock import SystemClock, new_id
from services.common.db import Database
from services.common.outbox import UnitOfWork
from services.dispatch.adapters import audit_models, identity_models  # noqa: F401 - tables
from services.dispatch.api.accounts import ClientIn, UserIn
from services.dispatch.app import audit_trail, identity
from services.dispatch.domain.audit_chain import Verdict
from services.dispatch.domain.errors import DispatchError
from services.dispatch.main import DispatchSettings

T = TypeVar("T")
CLI_ACTOR = f"cli:{getpass.getuser()}"

data_dir_option = click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=Path(".corespond"),
    show_default=True,
    help="where the embedded stack keeps dispatch.db (ignored when DATABASE_URL is set)",
)


def _run(data_dir: Path, work: Callable[[UnitOfWork], Awaitable[T]], action: str) -> T:
    async def go() -> T:
        settings = DispatchSettings(data_dir=data_dir)
        if settings.data_keys is None and (keys := configured_keys(data_dir)):
            # The embedded stack keeps its key beside the databases (corespond up).
            settings = DispatchSettings(data_dir=data_dir, data_keys=keys)
        db = Database.from_settings(settings)
        try:
            # Dispatch's own rule: upgrade the embedded SQLite file, refuse an old
            # production schema (corespond db upgrade dispatch comes first).
            mode = migrations.migrate_mode(settings)
            await migrations.Migrations.of("dispatch").prepare(db, mode)
            uow = UnitOfWork(
                db, source="corespond/cli", clock=SystemClock(), correlation_id=new_id()
            )
            async with uow:
                result = await work(uow)
                audit_log.record(
                    uow,
                    service="cli",
                    actor=CLI_ACTOR,
                    actor_kind="operator",
                    action=action,
                    outcome="ok",
                )
                await uow.commit()
            return result
        finally:
            await db.dispose()

    try:
        return asyncio.run(go())
    except DispatchError as exc:
        raise click.ClickException(str(exc)) from exc
    except migrations.SchemaNotCurrent as exc:
        raise click.ClickException(exc.advice) from exc


@click.group()
def users() -> None:
    """People who sign in: add, disable, enable, reset their second factor."""


@users.command("add")
@click.argument("username")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    help="call_taker, dispatcher, supervisor, admin, auditor, program_manager (repeatable)",
)
@click.option("--name", "display_name", default=None, help="display name (default: username)")
@click.option(
    "--password-stdin", is_flag=True, help="read the password from standard input (else generated)"
)
@data_dir_option
def add_user(
    username: str,
    roles: tuple[str, ...],
    display_name: str | None,
    password_stdin: bool,
    data_dir: Path,
) -> None:
    """Create USERNAME. The first sign-in enrols their authenticator app."""
    password = sys.stdin.readline().rstrip("\n") if password_stdin else secrets.token_urlsafe(18)
    try:
        body = UserIn(
            username=username,
            display_name=display_name or username,
            roles=list(roles),
            password=password,
        )
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'password'}: {e['msg']}" for e in exc.errors()
        )
        raise click.ClickException(problems) from exc

    async def work(uow: UnitOfWork) -> None:
        await identity.create_user(
            uow, body.username, body.display_name, [r.value for r in body.roles], body.password
        )

    _run(data_dir, work, f"users.add {body.username}")
    click.echo(f"user {body.username} created ({', '.join(r.value for r in body.roles)})")
    if not password_stdin:
        # Shown once, to the operator at the terminal; give it to the person by a safe channel.
        click.echo(f"initial password: {password}")
    click.echo(
        "first sign-in (the console walks through it): the person replaces this password "
        "with their own (POST /v1/auth/password), then enrols the otpauth:// URI"
    )


def _user_change(
    name: str, change: Callable[[UnitOfWork, identity_models.UserRecord], Awaitable[None]]
) -> Callable[[str, Path], None]:
    def command(username: str, data_dir: Path) -> None:
        async def work(uow: UnitOfWork) -> None:
            await change(uow, await identity.find_user(uow, username))

        _run(data_dir, work, f"users.{name} {username}")
        click.echo(f"{username}: {name} done")

    return command


for _name, _change, _help in (
    ("disable", identity.disable_user, "Disable USERNAME: signed out everywhere at once."),
    ("enable", identity.enable_user, "Enable USERNAME again (and unlock it)."),
    ("reset-mfa", identity.reset_mfa, "USERNAME enrols a new authenticator at next sign-in."),
):
    users.command(_name, help=_help)(
        data_dir_option(click.argument("username")(_user_change(_name, _change)))
    )


@click.group()
def clients() -> None:
    """Service clients (a CAD, unit terminals) with scoped API keys."""


@clients.command("add")
@click.argument("name")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    help="unit, call_taker, dispatcher, cad, provider",
)
@click.option("--organization", default=None, help="for a provider: its organisation's name")
@data_dir_option
def add_client(name: str, roles: tuple[str, ...], organization: str | None, data_dir: Path) -> None:
    """Create client NAME and print its API key (shown once)."""
    try:
        body = ClientIn(name=name, roles=list(roles), organization=organization)
    except ValidationError as exc:
        raise click.ClickException("; ".join(str(e["msg"]) for e in exc.errors())) from exc

    async def work(uow: UnitOfWork) -> str:
        _client, key = await identity.create_client(
            uow, body.name, [r.value for r in body.roles], body.organization
        )
        return key

    key = _run(data_dir, work, f"clients.add {body.name}")
    click.echo(f"client {body.name} created; API key (shown once):\n{key}")


@clients.command("rotate")
@click.argument("name")
@data_dir_option
def rotate_client(name: str, data_dir: Path) -> None:
    """A new key for NAME; the old one stops working now."""

    async def work(uow: UnitOfWork) -> str:
        return await identity.rotate_client(uow, await identity.find_client(uow, name))

    click.echo(_run(data_dir, work, f"clients.rotate {name}"))


@clients.command("revoke")
@click.argument("name")
@data_dir_option
def revoke_client(name: str, data_dir: Path) -> None:
    """Revoke NAME's key and every token it got."""

    async def work(uow: UnitOfWork) -> None:
        await identity.revoke_client(uow, await identity.find_client(uow, name))

    _run(data_dir, work, f"clients.revoke {name}")
    click.echo(f"{name}: revoked")


@click.group()
def audit() -> None:
    """The audit trail: verify its hash chain, purge expired records."""


@audit.command("verify")
@data_dir_option
def verify(data_dir: Path) -> None:
    """Check every kept record against its hash and its predecessor; exit 1 on a break."""

    async def work(uow: UnitOfWork) -> Verdict:
        return await audit_trail.check(uow.session)

    verdict = _run(data_dir, work, "audit.verify")
    if verdict.ok:
        span = f"#{verdict.first_seq}..#{verdict.last_seq}" if verdict.checked else "empty"
        click.echo(f"audit chain intact: {verdict.checked} records ({span})")
        return
    click.echo(f"audit chain BROKEN at record #{verdict.broken_at}: {verdict.why}", err=True)
    sys.exit(1)


@audit.command("purge")
@click.option("--days", type=int, default=None, help="keep this many days (default: the setting)")
@data_dir_option
def purge(days: int | None, data_dir: Path) -> None:
    """Delete records older than the retention setting, keeping the chain verifiable."""
    keep = days if days is not None else DispatchSettings(data_dir=data_dir).audit_retention_days
    if keep < 365:
        raise click.ClickException("audit records are kept at least 365 days")

    async def work(uow: UnitOfWork) -> int:
        return await audit_trail.purge(uow, keep)

    click.echo(f"{_run(data_dir, work, 'audit.purge')} records purged (kept {keep} days)")


@click.command()
@data_dir_option
def token(data_dir: Path) -> None:
    """Print a one-hour admin token for local-operator (needs the stack's secret)."""
    secret = auth_secret(data_dir)
    if secret is None:
        raise click.ClickException(
            f"no CORESPOND_AUTH_SECRET and no {data_dir / 'auth-secret'}: "
            "run `corespond up` first, or sign in (POST /v1/auth/login)"
        )
    click.echo(operator_token(secret))
