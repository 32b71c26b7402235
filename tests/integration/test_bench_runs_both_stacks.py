"""`corespond bench --postgres` runs the embedded stack and PostgreSQL with replicas in one run.

The figures are printed, not asserted (speed is measured, not asserted); what
is checked is that both runs happen, every call got its SMS, and bad input is
refused before anything starts.
"""

import subprocess
import sys

import pytest

from tests.support.databases import POSTGRES_URL, require_postgres


def _bench(*args: str, timeout_s: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.cli", "bench", *args],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


@pytest.mark.parametrize("replicas", ["dispatch=0", "gateway=2", "triage=two"])
def test_bad_replica_counts_are_refused(replicas: str) -> None:
    ran = _bench("--postgres", POSTGRES_URL, "--replicas", replicas, timeout_s=60)
    assert ran.returncode == 2
    assert "--replicas" in ran.stderr
    assert "starting" not in ran.stderr


@pytest.mark.slow
@pytest.mark.postgres
def test_bench_prints_embedded_and_replicated_figures() -> None:
    require_postgres()
    ran = _bench(
        *("--calls", "6", "--rate", "20", "--rtt-samples", "10"),
        *("--decisions", "50", "--recommendations", "5"),
        *("--postgres", POSTGRES_URL.replace("+asyncpg", "")),
        *("--replicas", "dispatch=2,triage=2,notify=2"),
    )
    assert ran.returncode == 0, ran.stderr[-3000:]
    out = ran.stdout
    assert "corespond bench (embedded: Tansu, SQLite" in out
    assert "corespond bench (PostgreSQL, Tansu, console SMS, replicas: 2 dispatch" in out
    assert out.count("0 calls without SMS") == 4  # two phases on each stack
