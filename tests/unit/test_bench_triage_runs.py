"""`corespond bench --triage-only` runs and prints its figures (the figures are not asserted)."""

import subprocess
import sys

from services.cli.bench_triage import measure_engine


def test_engine_measurement_counts_every_decision() -> None:
    figures = measure_engine(decisions=200)
    assert figures.decisions == 200
    assert len(figures.per_decision_us) == 200
    assert "decisions/s" in figures.report()


def test_triage_only_bench_command() -> None:
    ran = subprocess.run(
        [sys.executable, "-m", "services.cli", "bench", "--triage-only", "--decisions", "100"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    assert "time per decision" in ran.stdout
    assert "(n=100)" in ran.stdout
