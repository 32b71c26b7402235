"""The deployment files are correct by construction: compose, the Dockerfile and the
Kubernetes manifests are read here (Docker cannot run on the build machines) and
checked against the code — every variable they set is one a service reads, every
image is pinned, the services scale, probe and stop as the code expects, and the
production guide's tables are the ones the code generates.
"""

import importlib.util
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography.fernet import Fernet

from services.cli.settings_doc import (
    GUIDE,
    REGENERATE,
    known_env_names,
    stale_tables,
    variables,
)
from services.common.settings import ServiceSettings
from services.common.topics import CONSUMER_GROUPS
from services.dispatch.main import DispatchSettings
from services.dispatch.main import create_app as dispatch_app
from services.notify.main import NotifySettings
from services.notify.main import create_app as notify_app
from services.triage.main import TriageSettings
from services.triage.main import create_app as triage_app

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("triage", "dispatch", "notify")
REPLICAS = {"triage": 2, "dispatch": 3, "notify": 2}
REQUIRED_SECRETS = ("CORESPOND_AUTH_SECRET", "CORESPOND_DATA_KEYS", "DATABASE_URL")
SECRET_NAMES = {name for v in variables() if v.secret for name in v.names} | {"DATABASE_URL"}
INTERPOLATION = re.compile(r"\$\{(\w+)(?::?([-?])([^}]*))?\}")
# What an operator's .env provides for the required variables (`${VAR:?...}`).
OPERATOR_ENV = {
    "POSTGRES_PASSWORD": "pw",
    "CORESPOND_AUTH_SECRET": "s" * 48,
    "CORESPOND_DATA_KEYS": Fernet.generate_key().decode(),
    "CORESPOND_SMS_BACKEND": "twilio",
}


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def compose_services() -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = compose()["services"]
    return services


def manifests() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for path in sorted((ROOT / "deploy" / "kubernetes").glob("*.yaml")):
        docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def of_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in manifests() if d["kind"] == kind}


def resolved(text: str) -> str:
    """``text`` interpolated as compose would, with ``OPERATOR_ENV`` as the environment."""

    def value(m: re.Match[str]) -> str:
        name, op, rest = m.groups()
        if name in OPERATOR_ENV:
            return OPERATOR_ENV[name]
        assert op != "?", f"{name} is required and the test provides no value"
        return rest or ""

    return INTERPOLATION.sub(value, text)


def assert_pinned(image: str) -> None:
    _name, _, tag = resolved(image).partition(":")
    assert tag, f"{image} has no tag"
    assert tag != "latest", f"{image} has no pinned tag"
    assert re.search(r"\d+\.\d+", tag), f"{image}: the tag is not an explicit version"


def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


# compose


def test_compose_has_the_stack_and_no_zookeeper() -> None:
    services = compose_services()
    assert {"kafka", "postgres", "init", *SERVICES} <= set(services)
    assert not [n for n, s in services.items() if "zookeeper" in (n + s.get("image", "")).lower()]
    kafka = services["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    env = kafka["environment"]
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == "1@kafka:9093"
    assert "CONTROLLER://" in env["KAFKA_LISTENERS"]
    assert "PLAINTEXT://" in env["KAFKA_LISTENERS"]
    assert env["KAFKA_ADVERTISED_LISTENERS"] == "PLAINTEXT://kafka:9092"
    assert not [k for k in env if "ZOOKEEPER" in k]
    assert "kafka-topics.sh" in " ".join(kafka["healthcheck"]["test"])
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"]
    assert services["postgres"]["volumes"]


def test_every_image_is_pinned() -> None:
    for name, service in compose_services().items():
        assert "image" in service, f"{name} has no image"
        assert_pinned(service["image"])
    for name in ("init", *SERVICES):
        assert compose_services()[name]["build"] == "."
        assert resolved(compose_services()[name]["image"]) == "corespond:0.1.0"


def test_init_creates_topics_then_migrates_before_the_services() -> None:
    services = compose_services()
    init = services["init"]
    command = " ".join(init["command"])
    assert command.index("corespond topics create") < command.index("corespond db upgrade")
    assert init["depends_on"] == {
        "kafka": {"condition": "service_healthy"},
        "postgres": {"condition": "service_healthy"},
    }
    for name in SERVICES:
        assert services[name]["depends_on"]["init"] == {
            "condition": "service_completed_successfully"
        }


def test_long_running_services_are_health_checked_and_stop_gracefully() -> None:
    for name, service in compose_services().items():
        if service.get("restart") == "no":
            continue  # the one-shot init
        check = service.get("healthcheck")
        assert check, f"{name} has no health check"
        assert not check.get("disable"), f"{name} has its health check disabled"
    for name in SERVICES:
        service = compose_services()[name]
        assert "/healthz" in service["healthcheck"]["test"]
        assert service["command"] == ["python", "-m", f"services.{name}"]
        assert service["stop_signal"] == "SIGTERM"
        assert service["stop_grace_period"] == "30s"


def test_the_services_scale() -> None:
    services = compose_services()
    for name in SERVICES:
        service = services[name]
        assert "container_name" not in service
        for mapping in service.get("ports", []):
            host = str(mapping).rsplit(":", 1)[0]
            assert "-" in host, f"{name} publishes a single fixed host port: {mapping}"
    caddyfile = (ROOT / "deploy" / "compose" / "Caddyfile").read_text()
    for name in SERVICES:
        assert f"import replicas {name}" in caddyfile


def test_compose_sets_only_variables_the_code_reads_and_every_required_secret() -> None:
    known = known_env_names()
    services = compose_services()
    for name in ("init", *SERVICES):
        env = services[name]["environment"]
        assert set(env) <= known, f"{name}: {set(env) - known} are read by no service"
        for secret in REQUIRED_SECRETS:
            assert secret in env, f"{name} lacks {secret}"
        for key, value in env.items():
            if key in SECRET_NAMES and value:
                # From the environment, never a literal; the required ones with `:?`.
                assert INTERPOLATION.search(value), f"{name}: {key} is a literal"
        for secret in ("CORESPOND_AUTH_SECRET", "CORESPOND_DATA_KEYS"):
            assert re.fullmatch(rf"\$\{{{secret}:\?[^}}]+\}}", env[secret])
        assert "${POSTGRES_PASSWORD:?" in env["DATABASE_URL"]
    notify = services["notify"]["environment"]
    assert {"TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"} <= set(notify)


def test_the_compose_environment_configures_each_service() -> None:
    services = compose_services()
    env = {name: services[name]["environment"] for name in SERVICES}
    # model_validate: compose's values alone, not this machine's environment.
    settings: dict[str, ServiceSettings] = {
        "triage": TriageSettings.model_validate(_by_field(TriageSettings, env["triage"])),
        "dispatch": DispatchSettings.model_validate(_by_field(DispatchSettings, env["dispatch"])),
        "notify": NotifySettings.model_validate(_by_field(NotifySettings, env["notify"])),
    }
    for name, s in settings.items():
        assert s.kafka_bootstrap_servers == "kafka:9092"
        assert s.resolved_database_url().startswith("postgresql+asyncpg://corespond:")
        assert s.service_name == name  # and so the schema


def _by_field(cls: type[ServiceSettings], env: dict[str, str]) -> dict[str, str]:
    """Compose's environment, resolved, as keyword arguments (aliases accepted by name)."""
    names = {n.upper(): field for field, info in cls.model_fields.items() for n in _names(info)}
    names |= {f"CORESPOND_{f.upper()}": f for f in cls.model_fields}
    return {names[k]: resolved(v) for k, v in env.items() if k in names and resolved(v)}


def _names(info: Any) -> list[str]:
    alias = info.validation_alias
    return [c for c in getattr(alias, "choices", []) if isinstance(c, str)]


# Dockerfile


def test_the_dockerfile_is_pinned_multi_stage_and_runs_as_a_user() -> None:
    text = dockerfile()
    args = dict(re.findall(r"^ARG (\w+)=(\S+)$", text, re.M))
    froms = [
        re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], line)
        for line in re.findall(r"^FROM (\S+)", text, re.M)
    ]
    assert len(froms) >= 2
    for image in froms:
        assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm", image), image
    assert "pip install --require-hashes --no-deps -r requirements.lock" in text
    assert re.search(r"pip install --no-deps .*\.", text)
    assert "COPY --from=build /opt/venv /opt/venv" in text
    user = re.findall(r"^USER (\S+)", text, re.M)
    assert user
    assert user[-1].split(":")[0] not in ("root", "0")
    assert re.search(r"^STOPSIGNAL SIGTERM$", text, re.M)
    joined = text.replace("\\\n", " ")  # continuation lines as one instruction
    healthcheck = re.search(r"^HEALTHCHECK .*$", joined, re.M)
    assert healthcheck
    assert '"services.common.probe", "/healthz"' in healthcheck.group(0)
    assert re.search(r'^CMD \["python", "-m", "services\.dispatch"\]$', text, re.M)


def test_the_image_sets_only_variables_the_code_reads() -> None:
    env_block = re.search(r"^ENV PATH=.*?(?=^\S)", dockerfile(), re.M | re.S)
    assert env_block
    names = set(re.findall(r"(\w+)=", env_block.group(0)))
    ours = {n for n in names if n.startswith("CORESPOND_")}
    assert ours <= known_env_names()
    assert {"CORESPOND_HOST", "CORESPOND_PORT", "CORESPOND_POLICY_DIR"} <= ours
    assert "CORESPOND_HOST=0.0.0.0" in env_block.group(0)


def test_the_build_context_leaves_local_state_out() -> None:
    lines = (ROOT / ".dockerignore").read_text().split()
    assert lines[lines.index("*")] == "*"  # everything out, then what the image needs
    assert {"!requirements.lock", "!services/", "!schemas/", "!deploy/policies/"} <= set(lines)


def _dev_only_packages() -> Any:
    path = ROOT / "deploy" / "docker" / "dev_only_packages.py"
    spec = importlib.util.spec_from_file_location("dev_only_packages", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_image_keeps_the_runtime_and_drops_the_dev_tools() -> None:
    """The build stage uninstalls what this venv (installed from the same lock) says."""
    module = _dev_only_packages()
    runtime = module.runtime_closure()
    # Extras are followed: the asyncio and standard extras bring greenlet and uvloop.
    assert {"fastapi", "uvicorn", "uvloop", "sqlalchemy", "greenlet", "aiokafka"} <= runtime
    dropped = set(module.dev_only())
    assert {"pytest", "mypy", "ruff", "playwright", "schemathesis", "setuptools"} <= dropped
    assert not dropped & runtime
    assert "pip" not in dropped
    assert '"$(/opt/venv/bin/python dev_only_packages.py)"' in dockerfile()
    assert "/opt/venv/bin/pip check" in dockerfile()


# The guide


def test_the_guide_tables_are_generated_from_the_code() -> None:
    stale = stale_tables((ROOT / GUIDE).read_text())
    assert stale == [], f"{GUIDE}: {stale} out of date; run {REGENERATE}"


def test_every_service_subscribes_with_a_known_consumer_group(tmp_path: Path) -> None:
    keys = Fernet.generate_key().decode()
    common = {"data_dir": tmp_path, "data_keys": keys}
    apps = {
        "triage": triage_app(TriageSettings(**common)),  # type: ignore[arg-type]
        "dispatch": dispatch_app(DispatchSettings(**common)),  # type: ignore[arg-type]
        "notify": notify_app(NotifySettings(**common)),  # type: ignore[arg-type]
    }
    groups = {name: app.state.runtime.subscription.group_id for name, app in apps.items()}
    assert groups == {g: g for g in CONSUMER_GROUPS}


# Kubernetes


def _containers(workload: dict[str, Any]) -> list[dict[str, Any]]:
    spec = workload["spec"]["template"]["spec"]
    return [*spec.get("initContainers", []), *spec["containers"]]


def test_the_manifests_parse_and_name_every_piece() -> None:
    kinds = {(d["kind"], d["metadata"]["name"]) for d in manifests()}
    assert ("Namespace", "corespond") in kinds
    for name in SERVICES:
        assert {("Deployment", name), ("Service", name), ("PodDisruptionBudget", name)} <= kinds
    assert [n for k, n in kinds if k == "Job"]
    assert all(
        d["metadata"].get("namespace") == "corespond"
        for d in manifests()
        if d["kind"] != "Namespace"
    )


@pytest.mark.parametrize("name", SERVICES)
def test_deployments_probe_scale_and_run_unprivileged(name: str) -> None:
    deployment = of_kind("Deployment")[name]
    assert deployment["spec"]["replicas"] == REPLICAS[name]
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert pod["terminationGracePeriodSeconds"] >= 15
    (container,) = pod["containers"]
    assert container["command"] == ["python", "-m", f"services.{name}"]
    assert_pinned(container["image"])
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["ports"][0]["containerPort"] == 8000
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["resources"]["requests"]
    assert container["resources"]["limits"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    pdb = of_kind("PodDisruptionBudget")[name]
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert of_kind("Service")[name]["spec"]["selector"].items() <= labels.items()


def test_the_manifests_set_only_variables_the_code_reads_and_every_required_secret() -> None:
    known = known_env_names()
    config_maps = of_kind("ConfigMap")
    secret_keys = {
        name: set(s.get("stringData", {})) | set(s.get("data", {}))
        for name, s in of_kind("Secret").items()
    }
    workloads = [*of_kind("Deployment").values(), *of_kind("Job").values()]
    for workload in workloads:
        for container in _containers(workload):
            env = {e["name"]: e for e in container.get("env", [])}
            for source in container.get("envFrom", []):
                env |= {key: {} for key in config_maps[source["configMapRef"]["name"]]["data"]}
            assert set(env) <= known, f"{container['name']}: {set(env) - known}"
            for name, entry in env.items():
                if name in SECRET_NAMES:
                    ref = entry["valueFrom"]["secretKeyRef"]  # never a literal value
                    assert ref["key"] in secret_keys[ref["name"]]
    for name, deployment in of_kind("Deployment").items():
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        names = {e["name"] for e in container["env"]}
        assert set(REQUIRED_SECRETS) <= names
        if name == "notify":
            assert {"TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"} <= names


def test_the_secret_is_a_template_of_placeholders() -> None:
    for secret in of_kind("Secret").values():
        for key, value in secret["stringData"].items():
            assert "REPLACE_ME" in value, f"{key} looks like a real value"


def test_the_init_job_creates_topics_then_migrates_every_service() -> None:
    (job,) = of_kind("Job").values()
    commands = [" ".join(c["command"]) for c in _containers(job)]
    assert commands[0] == "corespond topics create"
    assert commands[1:] == [f"corespond db upgrade {name}" for name in SERVICES]
    assert job["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True
