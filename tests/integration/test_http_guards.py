"""Every response carries the security headers; CORS admits only named origins; big bodies get 413.

These tests only send requests, so they share one stack per module. Dispatch
names one console origin; triage and notify keep the default (no origin), so
the same stack shows CORS closed by default and open only where configured.
"""

import json
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from fastapi import APIRouter

from services.cli.stack import Tansu
from services.common.http import build_app
from services.common.runtime import ServiceRuntime
from services.common.settings import ServiceSettings
from tests.support.databases import sqlite_target
from tests.support.inprocess import DATA_KEYS, DEMO_CALL, InProcessStack

pytestmark = pytest.mark.asyncio(loop_scope="module")

CONSOLE = "https://console.example.org"
FOREIGN = "https://evil.example.net"
LIMIT = 1024 * 1024  # the default of max_body_bytes

STANDARD = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sqlite_stack(
    module_broker: Tansu, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[InProcessStack]:
    directory = tmp_path_factory.mktemp("guards")
    async with InProcessStack(
        module_broker.bootstrap,
        sqlite_target(directory),
        directory,
        overrides={"dispatch": {"cors_origins": [CONSOLE]}},
    ) as running:
        yield running


def assert_guarded(response: httpx.Response) -> None:
    for name, value in STANDARD.items():
        assert response.headers.get_list(name) == [value], (name, response.request.url)
    assert response.headers["strict-transport-security"].startswith("max-age=")
    policy = response.headers["permissions-policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()"):
        assert feature in policy
    [csp] = response.headers.get_list("content-security-policy")
    assert "frame-ancestors 'none'" in csp


# (service, method, path, expected status): API answers, errors of each kind,
# probes, the OpenAPI document, and the HTML pages each service serves.
SAMPLE = [
    ("dispatch", "GET", "/v1/incidents", 200),
    ("dispatch", "GET", "/v1/incidents/nope", 404),
    ("dispatch", "POST", "/v1/calls", 422),
    ("dispatch", "GET", "/no/such/page", 404),
    ("dispatch", "DELETE", "/v1/incidents", 405),
    ("dispatch", "GET", "/healthz", 200),
    ("dispatch", "GET", "/openapi.json", 200),
    ("triage", "GET", "/v1/policies", 200),
    ("triage", "POST", "/v1/triage/preview", 422),
    ("triage", "GET", "/readyz", 200),
    ("triage", "GET", "/healthz", 200),
    ("notify", "GET", "/v1/messages", 200),
    ("notify", "GET", "/r/not-a-real-link", 410),
    ("notify", "GET", "/t/not-a-real-link", 410),
    ("notify", "POST", "/twilio/sms/status", 403),
    ("notify", "GET", "/healthz", 200),
]


@pytest.mark.parametrize(("service", "method", "path", "status"), SAMPLE)
async def test_every_kind_of_response_carries_the_security_headers(
    sqlite_stack: InProcessStack, service: str, method: str, path: str, status: int
) -> None:
    body: dict[str, str] | None = {} if method == "POST" else None
    response = await sqlite_stack.clients[service].request(method, path, json=body)
    assert response.status_code == status, response.text
    assert_guarded(response)


@pytest.mark.parametrize("service", ["dispatch", "triage", "notify"])
async def test_an_unauthenticated_refusal_carries_them_too(
    sqlite_stack: InProcessStack, service: str
) -> None:
    path = {"dispatch": "/v1/units", "triage": "/v1/policies", "notify": "/v1/messages"}[service]
    response = await sqlite_stack.clients[service].get(path, headers={"Authorization": ""})
    assert response.status_code == 401
    assert_guarded(response)
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("service", "path"),
    [("dispatch", "/v1/incidents"), ("triage", "/v1/policies"), ("notify", "/v1/messages")],
)
async def test_personal_data_is_never_cached(
    sqlite_stack: InProcessStack, service: str, path: str
) -> None:
    response = await sqlite_stack.clients[service].get(path)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"


async def test_json_gets_a_csp_that_loads_nothing(sqlite_stack: InProcessStack) -> None:
    response = await sqlite_stack.dispatch.get("/v1/incidents")
    assert response.headers["content-security-policy"].startswith("default-src 'none'")


async def test_the_responder_page_keeps_its_own_policy(sqlite_stack: InProcessStack) -> None:
    page = await sqlite_stack.notify.get("/r/not-a-real-link")
    assert page.headers["content-type"].startswith("text/html")
    [csp] = page.headers.get_list("content-security-policy")
    # The page's own policy lets its forms post back; the default would not.
    assert "form-action 'self'" in csp
    assert page.headers.get_list("cache-control") == ["no-store"]


@pytest.mark.parametrize("service", ["dispatch", "triage", "notify"])
async def test_the_api_docs_may_load_their_ui_and_nothing_else(
    sqlite_stack: InProcessStack, service: str
) -> None:
    docs = await sqlite_stack.clients[service].get("/docs")
    assert docs.status_code == 200
    assert docs.headers["content-type"].startswith("text/html")
    assert_guarded(docs)
    csp = docs.headers["content-security-policy"]
    assert "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net;" in csp
    assert "connect-src 'self'" in csp
    assert "https://cdn.jsdelivr.net/npm/swagger-ui-dist" in docs.text


async def test_a_500_carries_the_security_headers(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The one response Starlette sends from outside every user middleware."""
    broken = APIRouter()

    @broken.get("/broken")
    async def fail() -> None:
        raise RuntimeError("a bug")

    settings = ServiceSettings(
        data_dir=tmp_path_factory.mktemp("broken"), auth_secret=None, data_keys=DATA_KEYS
    )
    app = build_app(ServiceRuntime(settings, []), title="broken", routers=[broken])
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://broken") as client:
        response = await client.get("/broken")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert_guarded(response)


def _preflight(origin: str, method: str = "POST") -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization, content-type",
    }


@pytest.mark.parametrize("service", ["dispatch", "triage", "notify"])
async def test_a_foreign_origin_is_not_let_in(sqlite_stack: InProcessStack, service: str) -> None:
    client = sqlite_stack.clients[service]
    preflight = await client.options("/v1/calls", headers=_preflight(FOREIGN))
    assert "access-control-allow-origin" not in preflight.headers
    assert preflight.status_code == 400
    assert preflight.headers["content-type"] == "application/problem+json"
    assert_guarded(preflight)

    path = {"dispatch": "/v1/incidents", "triage": "/v1/policies", "notify": "/v1/messages"}
    simple = await client.get(path[service], headers={"Origin": FOREIGN})
    assert simple.status_code == 200
    assert "access-control-allow-origin" not in simple.headers


@pytest.mark.parametrize("service", ["triage", "notify"])
async def test_cors_is_closed_by_default(sqlite_stack: InProcessStack, service: str) -> None:
    """Triage and notify name no origin, so even dispatch's console is refused there."""
    client = sqlite_stack.clients[service]
    preflight = await client.options("/v1/messages", headers=_preflight(CONSOLE, "GET"))
    assert "access-control-allow-origin" not in preflight.headers


async def test_a_configured_origin_is_let_in(sqlite_stack: InProcessStack) -> None:
    preflight = await sqlite_stack.dispatch.options("/v1/calls", headers=_preflight(CONSOLE))
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == CONSOLE
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
    # Bearer tokens travel in a header; cookies are never invited.
    assert "access-control-allow-credentials" not in preflight.headers

    response = await sqlite_stack.dispatch.post(
        "/v1/calls", json=DEMO_CALL, headers={"Origin": CONSOLE}
    )
    assert response.status_code == 202
    assert response.headers["access-control-allow-origin"] == CONSOLE
    assert "Location" in response.headers["access-control-expose-headers"]


async def _incident_count(stack: InProcessStack) -> int:
    return len((await stack.dispatch.get("/v1/incidents")).json())


def _huge_call() -> bytes:
    return json.dumps({**DEMO_CALL, "narrative": "x" * (LIMIT + 1)}).encode()


def assert_too_large(response: httpx.Response) -> None:
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 413
    assert f"{LIMIT} bytes" in problem["detail"]
    assert_guarded(response)


async def test_a_body_declared_too_large_is_413_and_stores_nothing(
    sqlite_stack: InProcessStack,
) -> None:
    before = await _incident_count(sqlite_stack)
    response = await sqlite_stack.dispatch.post(
        "/v1/calls", content=_huge_call(), headers={"content-type": "application/json"}
    )
    assert_too_large(response)
    assert await _incident_count(sqlite_stack) == before


async def test_a_chunked_body_that_grows_too_large_is_413_and_stores_nothing(
    sqlite_stack: InProcessStack,
) -> None:
    """No Content-Length: the limit is found while the body streams in."""
    body = _huge_call()

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    before = await _incident_count(sqlite_stack)
    response = await sqlite_stack.dispatch.post(
        "/v1/calls", content=chunks(), headers={"content-type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert_too_large(response)
    assert await _incident_count(sqlite_stack) == before


async def test_a_form_post_that_grows_too_large_is_413(sqlite_stack: InProcessStack) -> None:
    """Forms (the responder page, Twilio's webhooks) are read under the same limit."""

    async def chunks() -> AsyncIterator[bytes]:
        yield b"answer="
        for _ in range(LIMIT // 1024 + 1):
            yield b"y" * 1024

    response = await sqlite_stack.notify.post(
        "/r/not-a-real-link",
        content=chunks(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert_too_large(response)


@pytest.mark.parametrize(
    ("service", "method", "path", "allowed"),
    [
        # One route per method in FastAPI: each must name the others too.
        ("dispatch", "DELETE", "/v1/units", {"GET", "POST"}),
        ("dispatch", "PUT", "/v1/units/some-unit", {"GET", "PATCH"}),
        ("dispatch", "GET", "/v1/calls", {"POST"}),
        ("dispatch", "POST", "/openapi.json", {"GET", "HEAD"}),
        ("notify", "DELETE", "/v1/messages", {"GET"}),
        ("notify", "GET", "/twilio/sms/inbound", {"POST"}),
        ("triage", "POST", "/healthz", {"GET"}),
    ],
)
async def test_a_405_names_every_method_the_path_takes(
    sqlite_stack: InProcessStack, service: str, method: str, path: str, allowed: set[str]
) -> None:
    response = await getattr(sqlite_stack, service).request(method, path)
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"
    assert {m.strip() for m in response.headers["allow"].split(",")} == allowed
