"""Tracing reads the standard OpenTelemetry variables, and without an endpoint loads nothing."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from pydantic import ValidationError

from services.common.settings import ServiceSettings
from services.common.telemetry import Telemetry, traces_endpoint
from services.common.tracing import (
    child_traceparent,
    current_traceparent,
    trace_id_of,
    valid_traceparent,
    within,
)

OTEL_VARIABLES = (
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_SERVICE_NAME",
    "OTEL_SDK_DISABLED",
)


@pytest.fixture(autouse=True)
def _no_otel_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in OTEL_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_off_without_an_endpoint() -> None:
    settings = ServiceSettings(service_name="triage")
    assert traces_endpoint(settings) is None
    telemetry = Telemetry.from_settings(settings)
    assert not telemetry.enabled
    assert telemetry.provider is None


def test_the_base_endpoint_gets_the_traces_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/")
    assert traces_endpoint(ServiceSettings()) == "http://collector:4318/v1/traces"


def test_the_traces_endpoint_is_used_as_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "https://traces.example.org/otlp")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "dispatch-eu")
    settings = ServiceSettings()
    assert traces_endpoint(settings) == "https://traces.example.org/otlp"
    assert settings.otel_service_name == "dispatch-eu"


def test_sdk_disabled_wins_and_empty_means_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert traces_endpoint(ServiceSettings()) is None
    monkeypatch.delenv("OTEL_SDK_DISABLED")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
    assert traces_endpoint(ServiceSettings()) is None


def test_an_endpoint_that_is_not_a_url_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318")
    with pytest.raises(ValidationError, match="OTEL_EXPORTER_OTLP_ENDPOINT"):
        ServiceSettings()


def test_a_service_without_an_endpoint_never_imports_the_sdk(tmp_path: Path) -> None:
    # A fresh interpreter: other tests in this process may have loaded the SDK.
    script = textwrap.dedent(
        """
        import os, sys
        for name in list(os.environ):
            if name.startswith("OTEL_"):
                del os.environ[name]
        from services.triage.main import TriageSettings, create_app
        settings = TriageSettings(
            database_url="sqlite:///:memory:",
            data_dir=sys.argv[1],
            data_keys="Y29yZXNwb25kLXRlc3QtZGF0YS1rZXktMzItYnl0ZXM=",
        )
        app = create_app(settings)
        assert app.state.runtime.telemetry.provider is None
        # FastAPI imports the OpenTelemetry API; the SDK and exporter stay unloaded.
        loaded = sorted(
            m for m in sys.modules if m.startswith(("opentelemetry.sdk", "opentelemetry.exporter"))
        )
        assert not loaded, loaded
        """
    )
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], check=True, timeout=60)


def test_off_the_events_continue_the_trace_with_new_span_ids() -> None:
    """Without an SDK the W3C ids are still produced, exactly as before tracing existed."""
    off = Telemetry()
    parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    emitted = off.next_traceparent(parent)
    assert trace_id_of(emitted) == trace_id_of(parent)
    assert emitted != parent
    assert valid_traceparent(off.next_traceparent(None))


def test_the_work_at_hand_is_a_context() -> None:
    request = child_traceparent(None)
    assert current_traceparent() is None
    with within(request):
        assert current_traceparent() == request
    assert current_traceparent() is None


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "not-a-traceparent",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
    ],
)
def test_a_malformed_incoming_traceparent_is_ignored(header: str | None) -> None:
    assert valid_traceparent(header) is None
