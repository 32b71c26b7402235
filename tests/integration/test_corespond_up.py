"""`corespond up` (what `make run` runs): a whole stack from one command, stopped by Ctrl-C."""

import asyncio
import json
import os
import signal
import socket
import stat
import sys
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet

from services.cli.stack import Tansu, free_port, port_is_free
from tests.support.cli import corespond
from tests.support.flow import until_texted
from tests.support.inprocess import DEMO_CALL

pytestmark = pytest.mark.slow
DEMO_ROSTER_FILE = Path(__file__).parents[2] / "deploy/demo/roster.json"
DEMO_ROSTER = json.loads(DEMO_ROSTER_FILE.read_text())


def _clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CORESPOND_") and k not in {"KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL"}
    }
    env.update(extra)
    return env


async def _start_up(
    tmp_path: Path, env: dict[str, str]
) -> tuple[asyncio.subprocess.Process, str, dict[str, int]]:
    ports = {name: free_port() for name in ("dispatch", "triage", "notify", "broker")}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.cli",
        "up",
        "--data-dir",
        str(tmp_path / ".corespond"),
        "--dispatch-port",
        str(ports["dispatch"]),
        "--triage-port",
        str(ports["triage"]),
        "--notify-port",
        str(ports["notify"]),
        "--broker-port",
        str(ports["broker"]),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=tmp_path,
        env=env,
    )
    assert process.stdout is not None
    banner = ""
    while "Ctrl-C stops everything." not in banner:
        line = await asyncio.wait_for(process.stdout.readline(), 90)
        assert line, f"corespond up exited early:\n{banner}"
        banner += line.decode()
    return process, banner, ports


async def _stop(process: asyncio.subprocess.Process) -> str:
    process.send_signal(signal.SIGINT)
    assert process.stdout is not None
    rest = await asyncio.wait_for(process.stdout.read(), 60)
    assert await process.wait() == 0
    return rest.decode()


async def test_up_serves_the_readme_curl_and_stops_cleanly(tmp_path: Path) -> None:
    process, banner, ports = await _start_up(tmp_path, _clean_env())
    try:
        data_dir = tmp_path / ".corespond"
        [minting] = [line for line in banner.splitlines() if "export TOKEN=$(" in line]
        command = minting.split("$(", 1)[1].split(")", 1)[0]
        assert command.endswith(f"token --data-dir {data_dir.resolve()}")
        assert "providers: 6 added" in banner  # the demo directory, with the roster
        assert f"http://127.0.0.1:{ports['dispatch']}" in banner
        assert f"127.0.0.1:{ports['broker']}" in banner
        secret_file = tmp_path / ".corespond" / "auth-secret"
        assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
        assert secret_file.read_text().strip() not in banner  # the secret is never printed
        # The master key for personal fields, made on first run and kept the same way.
        keys_file = tmp_path / ".corespond" / "data-keys"
        Fernet(keys_file.read_text().strip())
        assert stat.S_IMODE(keys_file.stat().st_mode) == 0o600

        # Exactly the banner's command, pasted into a shell somewhere else.
        minted = await asyncio.create_subprocess_shell(
            command, cwd="/", env=_clean_env(), stdout=asyncio.subprocess.PIPE
        )
        out, _ = await minted.communicate()
        assert minted.returncode == 0
        headers = {"Authorization": f"Bearer {out.decode().strip()}"}
        base = f"http://127.0.0.1:{ports['dispatch']}"
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=10) as client:
            # Exactly the README's curl: -d sends application/x-www-form-urlencoded.
            response = await client.post(
                "/v1/calls",
                content=json.dumps(DEMO_CALL).encode(),
                headers={"content-type": "application/x-www-form-urlencoded"},
            )
            assert response.status_code == 202, response.text
            view = await until_texted(client, response.json()["incident_id"], timeout_s=10)
            assert view["triage"]["response_model"] == "clinician"
            units = (await client.get("/v1/units")).json()
            assert len(units) == len(DEMO_ROSTER)
            assert len((await client.get("/v1/providers")).json()) == 6
        # The CLI finds the stack `up` runs for this data folder, on whatever port.
        imported = await corespond(
            "units", "import", str(DEMO_ROSTER_FILE), "--data-dir", str(data_dir), env=_clean_env()
        )
        assert imported.code == 0, imported.err
        assert f"0 created, {len(DEMO_ROSTER)} updated" in imported.out
        await _console_is_wired(ports)
    except BaseException:
        process.kill()
        raise
    rest = await _stop(process)
    assert "stopped." in rest
    for port in ports.values():
        assert port_is_free(port), f"port {port} still in use after Ctrl-C"


async def _console_is_wired(ports: dict[str, int]) -> None:
    """The console at / knows triage and notify, and they admit its origin (CORS)."""
    dispatch = f"http://127.0.0.1:{ports['dispatch']}"
    async with httpx.AsyncClient(timeout=10) as client:
        page = await client.get(dispatch + "/")
        assert page.status_code == 200
        for name, path in (("triage", "/v1/triage/preview"), ("notify", "/v1/messages")):
            origin = f"http://127.0.0.1:{ports[name]}"
            assert origin in page.headers["content-security-policy"]
            config = (await client.get(dispatch + "/console/config.json")).json()
            assert config[f"{name}_url"] == origin
            preflight = await client.options(
                origin + path,
                headers={
                    "Origin": dispatch,
                    "Access-Control-Request-Method": "GET",
                    "Access-Control-Request-Headers": "authorization",
                },
            )
            assert preflight.headers.get("access-control-allow-origin") == dispatch


async def test_up_uses_the_cluster_named_by_kafka_bootstrap_servers(
    tmp_path: Path, broker: Tansu
) -> None:
    # What an operator sets for a broker without idempotent producers (Tansu).
    env = _clean_env(
        KAFKA_BOOTSTRAP_SERVERS=broker.bootstrap,
        CORESPOND_KAFKA_ENABLE_IDEMPOTENCE="false",
        CORESPOND_KAFKA_SESSION_TIMEOUT_MS="3000",
    )
    process, banner, _ = await _start_up(tmp_path, env)
    try:
        assert "starting Tansu" not in banner
        assert f"broker    {broker.bootstrap}" in banner
        assert not (tmp_path / ".corespond" / "tansu.log").exists()
    finally:
        await _stop(process)


async def test_up_refuses_ports_already_in_use(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        ran = await corespond("up", "--data-dir", str(tmp_path / "d"), "--dispatch-port", str(port))
    assert ran.code == 1
    assert f"dispatch port {port}" in ran.err
