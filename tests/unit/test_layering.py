"""Domain code stays free of frameworks and I/O; services never import each other."""

import ast
from pathlib import Path

import pytest

SERVICES = Path(__file__).parents[2] / "services"
FORBIDDEN_IN_DOMAIN = (
    "fastapi",
    "starlette",
    "aiokafka",
    "sqlalchemy",
    "httpx",
    "twilio",
    "uvicorn",
    "prometheus_client",
)
SERVICE_NAMES = ("triage", "dispatch", "notify")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_domain_imports_no_framework(service: str) -> None:
    offenders = {
        f"{path.relative_to(SERVICES)}: {name}"
        for path in (SERVICES / service / "domain").rglob("*.py")
        for name in _imports(path)
        if name.split(".")[0] in FORBIDDEN_IN_DOMAIN
    }
    assert not offenders


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_services_talk_only_through_events(service: str) -> None:
    others = [s for s in SERVICE_NAMES if s != service]
    offenders = {
        f"{path.relative_to(SERVICES)}: {name}"
        for path in (SERVICES / service).rglob("*.py")
        for name in _imports(path)
        if any(name.startswith(f"services.{other}") for other in others)
    }
    assert not offenders


def test_every_module_says_its_job() -> None:
    missing = [
        str(path.relative_to(SERVICES.parent))
        for root in (SERVICES, SERVICES.parent / "schemas")
        for path in root.rglob("*.py")
        if ast.get_docstring(ast.parse(path.read_text())) is None
    ]
    assert not missing
