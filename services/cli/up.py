"""``corespond up``: everything on one machine with embedded defaults, until Ctrl-C.

Tansu on 127.0.0.1 (unless ``KAFKA_BOOTSTRAP_SERVERS`` names a cluster), the
three services on 8000/8001/8002 with SQLite under ``./.corespond/``, a demo
roster and the demo treatment providers, the secret that signs access tokens
(``CORESPOND_AUTH_SECRET``, or one generated on first run and kept in the data
folder, readable only by you; ``corespond token`` signs an operator token with
it), and the master key
personal fields are encrypted with (``CORESPOND_DATA_KEYS``, or one generated
on first run and kept in ``<data dir>/data-keys`` the same way). While up,
``<data dir>/dispatch-url`` tells the CLI's other commands where dispatch is.
The banner prints the commands exactly as they run here (this executable, this
data folder).
"""

import os
import shlex
import signal
import sys
import time
from pathlib import Path
from types import FrameType

import click

from services.cli.api_client import URL_FILE, dispatch_client
from services.cli.data_keys import keys_for_up
from services.cli.local_auth import auth_secret
from services.cli.providers import add_missing, read_providers
from services.cli.stack import DEFAULT_PORTS, Stack, StackConfig, Tansu, free_port, port_is_free

DEMO = Path(__file__).resolve().parents[2] / "deploy" / "demo"
DEMO_ROSTER = DEMO / "roster.json"
DEMO_PROVIDERS = DEMO / "providers.json"


@click.command()
@click.option(
    "--data-dir", type=click.Path(path_type=Path), default=Path(".corespond"), show_default=True
)
@click.option(
    "--roster",
    type=click.Path(path_type=Path, exists=True),
    default=DEMO_ROSTER,
    show_default=True,
    help="Units to seed when the dispatch database has none.",
)
@click.option(
    "--providers",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    default=DEMO_PROVIDERS,
    show_default=True,
    help="Treatment providers for warm handoffs, added when not listed yet.",
)
@click.option("--dispatch-port", type=int, default=DEFAULT_PORTS["dispatch"], show_default=True)
@click.option("--triage-port", type=int, default=DEFAULT_PORTS["triage"], show_default=True)
@click.option("--notify-port", type=int, default=DEFAULT_PORTS["notify"], show_default=True)
@click.option(
    "--broker-port",
    type=int,
    default=9092,
    show_default=True,
    help="Port for the embedded broker (a free one is chosen if this is taken).",
)
def up(
    data_dir: Path,
    roster: Path,
    providers: Path,
    dispatch_port: int,
    triage_port: int,
    notify_port: int,
    broker_port: int,
) -> None:
    """Start the broker (embedded) and the three services; Ctrl-C stops everything."""
    data_dir.mkdir(parents=True, exist_ok=True)
    ports = {"dispatch": dispatch_port, "triage": triage_port, "notify": notify_port}
    busy = [f"{name} port {port}" for name, port in ports.items() if not port_is_free(port)]
    if busy:
        raise click.ClickException(f"already in use: {', '.join(busy)} (is corespond already up?)")
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    tansu: Tansu | None = None
    if not external:
        port = broker_port if port_is_free(broker_port) else free_port()
        tansu = Tansu(port, log=(data_dir / "tansu.log").open("ab"))
        click.echo(f"starting Tansu on 127.0.0.1:{port} (memory storage) ...")
        tansu.start()
    secret = auth_secret(data_dir, create=True)
    assert secret is not None
    config = StackConfig(
        data_dir=data_dir.resolve(),
        bootstrap_servers=external or (tansu.bootstrap if tansu else ""),
        auth_secret=secret,
        data_keys=keys_for_up(data_dir),
        ports=ports,
        seed_roster=roster.resolve(),
        embedded_broker=tansu is not None,
    )
    stack = Stack(config)
    stopping = False

    def on_signal(_sig: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        click.echo("starting dispatch, triage, notify ...")
        stack.start()
        url_file = data_dir / URL_FILE
        url_file.write_text(stack.url("dispatch") + "\n")
        with dispatch_client(stack.url("dispatch"), None, data_dir) as client:
            added, kept = add_missing(client, read_providers(providers))
        click.echo(f"providers: {added} added, {kept} already listed, from {providers}")
        _banner(stack, config)
        while not stopping:
            dead = [
                s.name
                for s in stack.services.values()
                if s.process and s.process.poll() is not None
            ]
            if dead:
                click.echo(
                    f"{', '.join(dead)} exited; see {data_dir}/<service>.log — stopping", err=True
                )
                raise SystemExit(1)
            time.sleep(0.5)
        click.echo("\nstopping ...")
    finally:
        (data_dir / URL_FILE).unlink(missing_ok=True)
        stack.stop()
        if tansu:
            tansu.stop()
        click.echo("stopped.")


def _self_command() -> str:
    """This CLI as it was started, so a pasted command runs the same installation."""
    started = Path(sys.argv[0])
    if started.name == "__main__.py":  # python -m services.cli
        return f"{shlex.quote(sys.executable)} -m services.cli"
    if started.name == "corespond" and started.is_file():
        # As typed when it was a path (.venv/bin/corespond), else found on PATH.
        return shlex.quote(sys.argv[0]) if os.sep in sys.argv[0] else "corespond"
    return "corespond"


def _banner(stack: Stack, config: StackConfig) -> None:
    cli = _self_command()
    data = shlex.quote(str(config.data_dir))
    click.echo(
        f"""
corespond is up.
  console   {stack.url("dispatch")}/
            first: {cli} users add NAME --role dispatcher --data-dir {data}
  dispatch  {stack.url("dispatch")}   (API docs: {stack.url("dispatch")}/docs)
  triage    {stack.url("triage")}
  notify    {stack.url("notify")}
  broker    {config.bootstrap_servers}
  data      {config.data_dir}   (SQLite databases and service logs)

  export TOKEN=$({cli} token --data-dir {data})   # a one-hour admin token (local-operator)
  curl -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\
       -d @deploy/demo/call.json {stack.url("dispatch")}/v1/calls

Ctrl-C stops everything.
"""
    )
