"""The container health check (``python -m services.common.probe``) exits 0 only when the
service on ``CORESPOND_PORT`` answers 200, as Docker and compose expect."""

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from services.cli.stack import free_port


class _Probes(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/healthz" else 503)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet test output


@pytest.fixture
def service_port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Probes)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def probe(port: int, *path: str) -> int:
    env = {**os.environ, "CORESPOND_PORT": str(port)}
    return subprocess.run(
        [sys.executable, "-m", "services.common.probe", *path], env=env, timeout=30, check=False
    ).returncode


def test_healthy_is_exit_0_and_failing_is_exit_1(service_port: int) -> None:
    assert probe(service_port) == 0  # /healthz by default
    assert probe(service_port, "/readyz") == 1  # 503


def test_nothing_listening_is_exit_1() -> None:
    assert probe(free_port()) == 1
