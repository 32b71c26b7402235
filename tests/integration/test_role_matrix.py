"""Every route of all three services, every role: exactly what the matrix says, and no more.

The matrix below is the specification (README's API table says the same in
prose). The test reads each service's OpenAPI, so a new route without a row
here fails; then every role, and no token, a malformed token, a forged one,
an expired one and a disabled user's, is tried on every route.
"""

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import pytest_asyncio

from services.cli.stack import Tansu
from services.common.auth import StaffRole
from services.common.tokens import TokenKeys
from tests.support.databases import sqlite_target
from tests.support.inprocess import DEMO_CALL, InProcessStack, mint_token
from tests.support.waiting import eventually

pytestmark = pytest.mark.asyncio(loop_scope="module")

CALL = {StaffRole.CALL_TAKER, StaffRole.DISPATCHER, StaffRole.SUPERVISOR}
DESK = {StaffRole.DISPATCHER, StaffRole.SUPERVISOR}
FIELD = {StaffRole.UNIT, StaffRole.DISPATCHER, StaffRole.SUPERVISOR}
SUPERVISOR = {StaffRole.SUPERVISOR}
ADMIN: set[StaffRole] = set()  # admin only (admin passes every set but the auditor's)
EVERYONE = set(StaffRole)
EIDO_IN = {*CALL, StaffRole.CAD}
EIDO_OUT = {*DESK, StaffRole.CAD}

MATRIX: dict[tuple[str, str, str], set[StaffRole]] = {
    ("dispatch", "POST", "/v1/calls"): CALL,
    ("dispatch", "GET", "/v1/incidents"): CALL,
    ("dispatch", "GET", "/v1/incidents/{incident_id}"): CALL,
    ("dispatch", "GET", "/v1/stream"): CALL,
    ("dispatch", "POST", "/v1/eido"): EIDO_IN,
    ("dispatch", "GET", "/EIDO/{eido_id}"): EIDO_OUT,
    ("dispatch", "GET", "/v1/incidents/{incident_id}/eido"): EIDO_OUT,
    ("dispatch", "POST", "/v1/incidents/{incident_id}/dispatch"): DESK,
    ("dispatch", "POST", "/v1/incidents/{incident_id}/close"): DESK,
    ("dispatch", "POST", "/v1/incidents/{incident_id}/replan"): DESK,
    ("dispatch", "PUT", "/v1/incidents/{incident_id}/pin"): DESK,
    ("dispatch", "GET", "/v1/units"): DESK,
    ("dispatch", "POST", "/v1/units"): SUPERVISOR,
    ("dispatch", "GET", "/v1/units/{unit_id}"): DESK,
    ("dispatch", "PATCH", "/v1/units/{unit_id}"): SUPERVISOR,
    ("dispatch", "POST", "/v1/units/{unit_id}/status"): FIELD,
    ("dispatch", "POST", "/v1/units/{unit_id}/location"): FIELD,
    ("dispatch", "POST", "/v1/assignments/{assignment_id}/status"): FIELD,
    ("dispatch", "GET", "/v1/alerts"): DESK,
    ("dispatch", "POST", "/v1/alerts/{alert_id}/acknowledge"): DESK,
    ("dispatch", "GET", "/v1/providers"): FIELD,
    ("dispatch", "GET", "/v1/hsds/services"): FIELD,
    ("dispatch", "POST", "/v1/providers"): SUPERVISOR,
    ("dispatch", "PATCH", "/v1/providers/{provider_id}"): FIELD,
    ("dispatch", "POST", "/v1/incidents/{incident_id}/handoffs"): FIELD,
    ("dispatch", "GET", "/v1/incidents/{incident_id}/handoffs"): DESK,
    ("dispatch", "POST", "/v1/auth/logout"): EVERYONE,
    ("dispatch", "GET", "/v1/users"): ADMIN,
    ("dispatch", "POST", "/v1/users"): ADMIN,
    ("dispatch", "POST", "/v1/users/{user_id}/disable"): ADMIN,
    ("dispatch", "POST", "/v1/users/{user_id}/enable"): ADMIN,
    ("dispatch", "POST", "/v1/users/{user_id}/reset-mfa"): ADMIN,
    ("dispatch", "POST", "/v1/users/{user_id}/password"): ADMIN,
    ("dispatch", "GET", "/v1/clients"): ADMIN,
    ("dispatch", "POST", "/v1/clients"): ADMIN,
    ("dispatch", "POST", "/v1/clients/{client_id}/rotate"): ADMIN,
    ("dispatch", "POST", "/v1/clients/{client_id}/revoke"): ADMIN,
    ("dispatch", "GET", "/v1/audit"): {StaffRole.AUDITOR},
    ("dispatch", "GET", "/v1/reports/summary"): {StaffRole.PROGRAM_MANAGER, StaffRole.SUPERVISOR},
    ("dispatch", "GET", "/v1/reports/outcomes"): {StaffRole.PROGRAM_MANAGER, StaffRole.SUPERVISOR},
    ("dispatch", "GET", "/v1/reports/outcomes/charts/{name}"): {
        StaffRole.PROGRAM_MANAGER,
        StaffRole.SUPERVISOR,
    },
    # Spike alerts are aggregates (CAP scope Restricted): the desk and program managers.
    ("dispatch", "GET", "/v1/spikes"): {*DESK, StaffRole.PROGRAM_MANAGER},
    ("dispatch", "GET", "/v1/spikes/{spike_id}/cap"): {*DESK, StaffRole.PROGRAM_MANAGER},
    ("dispatch", "GET", "/v1/cap/feed"): {*DESK, StaffRole.PROGRAM_MANAGER},
    ("triage", "POST", "/v1/triage/preview"): CALL,
    ("triage", "GET", "/v1/policies"): {*DESK, StaffRole.PROGRAM_MANAGER},
    ("notify", "GET", "/v1/messages"): DESK,
    ("notify", "POST", "/v1/console/sms/inbound"): DESK,
}
# Signing in cannot need a token. Each is rate-limited and audited instead.
PUBLIC = {
    ("dispatch", "POST", "/v1/auth/login"),
    ("dispatch", "POST", "/v1/auth/mfa"),
    ("dispatch", "POST", "/v1/auth/refresh"),
    ("dispatch", "POST", "/v1/auth/token"),
    # An admin's password for the person's own, before any session (the password is the proof).
    ("dispatch", "POST", "/v1/auth/password"),
}
EXCLUSIVE = {("dispatch", "GET", "/v1/audit")}  # not even admin: separation of duties


def allowed(route: tuple[str, str, str], role: StaffRole) -> bool:
    if role == StaffRole.ADMIN and route not in EXCLUSIVE:
        return True
    return role in MATRIX[route]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(
    module_broker: Tansu, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[InProcessStack]:
    directory = tmp_path_factory.mktemp("roles")
    async with InProcessStack(
        module_broker.bootstrap, sqlite_target(directory), directory
    ) as running:
        yield running


async def _call(stack: InProcessStack, route: tuple[str, str, str], token: str | None) -> int:
    service, method, template = route
    path = re.sub(r"\{[a-z_]+\}", "x", template)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=stack.apps[service]), base_url=f"http://{service}"
    ) as client:
        body = DEMO_CALL if method in ("POST", "PUT", "PATCH") else None
        # The live stream never ends by itself; the in-process transport waits for the end.
        params = {"follow": "false"} if path == "/v1/stream" else None
        response = await client.request(method, path, json=body, headers=headers, params=params)
    return response.status_code


async def test_every_route_is_in_the_matrix(stack: InProcessStack) -> None:
    found = set()
    for service, client in stack.clients.items():
        spec = (await client.get("/openapi.json")).json()
        for path, operations in spec["paths"].items():
            for method in operations:
                if path.startswith(("/v1/", "/EIDO/")):
                    found.add((service, method.upper(), path))
    assert found == set(MATRIX) | PUBLIC


@pytest.mark.parametrize("role", list(StaffRole))
async def test_each_role_gets_exactly_its_routes(stack: InProcessStack, role: StaffRole) -> None:
    token = mint_token([role.value], name=f"matrix-{role.value}")
    wrong = {}
    for route in MATRIX:
        if route == ("dispatch", "POST", "/v1/auth/logout"):
            continue  # signing out would revoke the token for the rest of this loop
        status = await _call(stack, route, token)
        if allowed(route, role) == (status in (401, 403)):
            wrong[route] = status
    assert wrong == {}, f"{role.value}: {wrong}"


def _expired() -> str:
    return mint_token(
        ["admin"], now=datetime.now(UTC) - timedelta(hours=2), ttl=timedelta(minutes=10)
    )


def _forged() -> str:
    return TokenKeys("an-attacker-secret-that-is-long-enough-0123456789").issue(
        subject_id="x",
        name="x",
        kind="user",
        roles=["admin"],
        now=datetime.now(UTC),
        ttl=timedelta(minutes=10),
    )


@pytest.mark.parametrize(
    "token",
    [None, "not-a-jwt", "Basic dXNlcjpwYXNz", "expired", "forged", "mfa-only"],
)
async def test_no_valid_token_gets_in_anywhere(stack: InProcessStack, token: str | None) -> None:
    value = {
        "expired": _expired(),
        "forged": _forged(),
        # Half signed in (password, no code yet): not an access token.
        "mfa-only": mint_token(["admin"], kind="mfa"),
    }.get(token or "", token)
    statuses = {route: await _call(stack, route, value) for route in MATRIX}
    assert {r: s for r, s in statuses.items() if s != 401} == {}


async def test_a_disabled_users_token_gets_in_nowhere(stack: InProcessStack) -> None:
    body = {
        "username": "matrix-disabled",
        "display_name": "Disabled",
        "roles": ["supervisor"],
        "password": "a long enough passphrase",
    }
    user = (await stack.dispatch.post("/v1/users", json=body)).json()
    token = mint_token(
        ["supervisor"],
        name="matrix-disabled",
        subject_id=user["id"],
        now=datetime.now(UTC) - timedelta(seconds=5),
    )
    assert await _call(stack, ("notify", "GET", "/v1/messages"), token) == 200
    await stack.dispatch.post(f"/v1/users/{user['id']}/disable")

    async def everywhere() -> dict[tuple[str, str, str], int] | None:
        statuses = {route: await _call(stack, route, token) for route in MATRIX}
        let_in = {r: s for r, s in statuses.items() if s != 401}
        return None if let_in else statuses

    await eventually(everywhere, what="the disabled user refused by all three services")


async def test_a_program_manager_sees_figures_and_nothing_personal(stack: InProcessStack) -> None:
    await stack.dispatch.post("/v1/calls", json=DEMO_CALL)
    manager = mint_token(["program_manager"], name="pat-manager")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=stack.apps["dispatch"]), base_url="http://dispatch"
    ) as client:
        found = await client.get(
            "/v1/reports/summary", headers={"Authorization": f"Bearer {manager}"}
        )
        incidents = await client.get(
            "/v1/incidents", headers={"Authorization": f"Bearer {manager}"}
        )
    assert found.status_code == 200
    assert found.json()["incidents"] >= 1
    assert sum(found.json()["by_source"].values()) == found.json()["incidents"]
    text = found.text
    assert DEMO_CALL["caller"]["phone"] not in text
    assert DEMO_CALL["location"]["address"] not in text
    assert incidents.status_code == 403  # figures, not records
