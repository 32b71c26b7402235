"""Talking to a running corespond service from the CLI: its token, listing, sending.

The token comes from ``--token``, else ``CORESPOND_TOKEN``, else is signed for
the local operator with the secret ``corespond up`` keeps
(``.corespond/auth-secret``). Dispatch is where ``--url`` says, else
``CORESPOND_DISPATCH_URL``, else where ``corespond up`` runs it for the same
data folder (it writes ``<data dir>/dispatch-url`` while up), else
http://127.0.0.1:8000. Errors are CLI messages with a non-zero exit, naming
what failed.
"""

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
import httpx

from services.cli.local_auth import SECRET_FILE, auth_secret, operator_token


def resolve_token(explicit: str | None, data_dir: Path) -> str:
    if explicit:
        return explicit
    if os.environ.get("CORESPOND_TOKEN"):
        return os.environ["CORESPOND_TOKEN"]
    secret = auth_secret(data_dir)
    if secret:
        return operator_token(secret)
    raise click.UsageError(
        "no token: pass --token, set CORESPOND_TOKEN, or run where `corespond up` keeps "
        f"its secret ({data_dir / SECRET_FILE})"
    )


def get_list(client: httpx.Client, path: str) -> list[dict[str, Any]]:
    try:
        response = client.get(path)
    except httpx.HTTPError as exc:
        raise click.ClickException(f"cannot reach dispatch at {client.base_url}: {exc}") from exc
    if response.status_code != 200:
        raise click.ClickException(f"GET {path}: {response.status_code} {response.text}")
    units: list[dict[str, Any]] = response.json()
    return units


def send(client: httpx.Client, method: str, path: str, body: dict[str, Any], sign: str) -> None:
    response = client.request(method, path, json=body)
    if response.status_code not in (200, 201):
        detail = response.json().get("detail", response.text) if response.content else ""
        raise click.ClickException(f"{sign}: {method} {path}: {response.status_code} {detail}")


DEFAULT_URL = "http://127.0.0.1:8000"
URL_FILE = "dispatch-url"


def resolve_url(explicit: str | None, data_dir: Path) -> str:
    if explicit:
        return explicit
    if os.environ.get("CORESPOND_DISPATCH_URL"):
        return os.environ["CORESPOND_DISPATCH_URL"]
    written = data_dir / URL_FILE
    if written.exists() and (url := written.read_text().strip()):
        return url
    return DEFAULT_URL


F = TypeVar("F", bound=Callable[..., Any])


def dispatch_options(command: F) -> F:
    """``--url``, ``--token`` and ``--data-dir``: where dispatch is and how to sign in."""
    command = click.option(
        "--data-dir", type=click.Path(path_type=Path), default=Path(".corespond"), show_default=True
    )(command)
    command = click.option(
        "--token",
        default=None,
        help="bearer token (default: CORESPOND_TOKEN, then one signed with .corespond/auth-secret)",
    )(command)
    command = click.option(
        "--url",
        default=None,
        help="dispatch (default: CORESPOND_DISPATCH_URL, then the one `corespond up` runs "
        f"for --data-dir, then {DEFAULT_URL})",
    )(command)
    return command


def dispatch_client(url: str | None, token: str | None, data_dir: Path) -> httpx.Client:
    headers = {"Authorization": f"Bearer {resolve_token(token, data_dir)}"}
    return httpx.Client(base_url=resolve_url(url, data_dir), headers=headers, timeout=30)
