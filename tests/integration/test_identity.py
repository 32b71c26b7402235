"""People sign in with a password and a TOTP code; sessions end; accounts and keys are revoked.

Real broker, SQLite and PostgreSQL. The test is the person's authenticator
app: it reads the otpauth:// URI it is given and computes codes with pyotp.
Revocations must reach triage and notify over the bus.
"""

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pyotp
import pytest_asyncio

from services.cli.stack import Tansu
from tests.support.clock import ManualClock
from tests.support.databases import DatabaseTarget
from tests.support.inprocess import InProcessStack
from tests.support.waiting import eventually

PASSWORD = "correct horse battery staple"
# What an admin gives a new account; the person replaces it with PASSWORD at once.
GIVEN = "the admin's starting passphrase"


@pytest_asyncio.fixture
async def clock() -> ManualClock:
    return ManualClock()


@pytest_asyncio.fixture
async def stack(
    broker: Tansu, database: DatabaseTarget, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[InProcessStack]:
    async with InProcessStack(broker.bootstrap, database, tmp_path, dispatch_clock=clock) as s:
        yield s


def _anonymous(stack: InProcessStack, service: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=stack.apps[service]), base_url=f"http://{service}"
    )


async def _add_user(
    stack: InProcessStack, username: str, roles: list[str], *, change: bool = True
) -> dict[str, Any]:
    """An admin makes the account with GIVEN; unless ``change`` is False the person then
    chooses PASSWORD, as the first sign-in requires."""
    body = {"username": username, "display_name": username, "roles": roles, "password": GIVEN}
    created = await stack.dispatch.post("/v1/users", json=body)
    assert created.status_code == 201, created.text
    user: dict[str, Any] = created.json()
    if change:
        async with _anonymous(stack, "dispatch") as client:
            changed = await client.post(
                "/v1/auth/password",
                json={"username": username, "password": GIVEN, "new_password": PASSWORD},
            )
        assert changed.status_code == 204, changed.text
    return user


class Person:
    """Someone at a browser with an authenticator app."""

    def __init__(self, stack: InProcessStack, username: str, clock: ManualClock) -> None:
        self.stack, self.username, self.clock = stack, username, clock
        self.totp: pyotp.TOTP | None = None

    async def login(self, password: str = PASSWORD) -> httpx.Response:
        async with _anonymous(self.stack, "dispatch") as client:
            return await client.post(
                "/v1/auth/login", json={"username": self.username, "password": password}
            )

    def code(self) -> str:
        assert self.totp is not None
        return self.totp.at(self.clock.now())

    async def sign_in(self) -> dict[str, Any]:
        step = await self.login()
        assert step.status_code == 200, step.text
        if step.json()["enrol_uri"]:
            uri = step.json()["enrol_uri"]
            assert uri.startswith("otpauth://totp/corespond:")
            self.totp = pyotp.TOTP(parse_qs(urlsplit(uri).query)["secret"][0])
        async with _anonymous(self.stack, "dispatch") as client:
            done = await client.post(
                "/v1/auth/mfa", json={"mfa_token": step.json()["mfa_token"], "code": self.code()}
            )
        assert done.status_code == 200, done.text
        tokens: dict[str, Any] = done.json()
        return tokens


async def _as(stack: InProcessStack, service: str, token: str, method: str, path: str) -> int:
    async with _anonymous(stack, service) as client:
        body = (
            {"narrative": "man yelling in the street", "answers": {}} if method == "POST" else None
        )
        response = await client.request(
            method, path, json=body, headers={"Authorization": f"Bearer {token}"}
        )
        return response.status_code


async def test_password_then_code_signs_in_and_the_roles_decide(
    stack: InProcessStack, clock: ManualClock
) -> None:
    await _add_user(stack, "casey", ["call_taker"])
    casey = Person(stack, "casey", clock)
    tokens = await casey.sign_in()
    assert tokens["token_type"] == "bearer"
    assert tokens["refresh_token"]
    access = tokens["access_token"]

    # A call-taker previews triage (triage verifies dispatch's token by itself) ...
    assert await _as(stack, "triage", access, "POST", "/v1/triage/preview") == 200
    # ... but reads no SMS, and manages no accounts.
    assert await _as(stack, "notify", access, "GET", "/v1/messages") == 403
    assert await _as(stack, "dispatch", access, "GET", "/v1/users") == 403

    # The same code again (a replay) is refused, even with the right password.
    step = await casey.login()
    async with _anonymous(stack, "dispatch") as client:
        replay = await client.post(
            "/v1/auth/mfa", json={"mfa_token": step.json()["mfa_token"], "code": casey.code()}
        )
    assert replay.status_code == 401
    assert step.json()["enrol_uri"] is None  # enrolled once, not again

    view = (await stack.dispatch.get("/v1/users")).json()
    [me] = [u for u in view if u["username"] == "casey"]
    assert me["mfa_enrolled"] is True
    assert "password" not in str(me)


async def test_an_admins_password_must_be_changed_before_any_session(
    stack: InProcessStack, clock: ManualClock
) -> None:
    await _add_user(stack, "nia", ["dispatcher"], change=False)
    nia = Person(stack, "nia", clock)
    step = await nia.login(GIVEN)
    assert step.status_code == 200, step.text
    # The password is right, but no second step and no session until it is her own.
    assert step.json() == {
        "mfa_token": None,
        "enrol_uri": None,
        "password_change_required": True,
    }
    async with _anonymous(stack, "dispatch") as client:

        async def change(password: str, new: str) -> httpx.Response:
            return await client.post(
                "/v1/auth/password",
                json={"username": "nia", "password": password, "new_password": new},
            )

        assert (await change("not the given one", PASSWORD)).status_code == 401
        assert (await change(GIVEN, GIVEN)).status_code == 422  # the same is no change
        assert (await change(GIVEN, "short")).status_code == 422
        assert (await change(GIVEN, PASSWORD)).status_code == 204
        # Done once: this is not a way around the second factor for later changes.
        assert (await change(PASSWORD, PASSWORD + " again")).status_code == 409
    assert (await nia.login(GIVEN)).status_code == 401
    tokens = await nia.sign_in()  # her own password, then the code
    assert await _as(stack, "dispatch", tokens["access_token"], "GET", "/v1/units") == 200

    # An admin's reset asks for a change again (and ends her sessions).
    users = {u["username"]: u for u in (await stack.dispatch.get("/v1/users")).json()}
    reset = await stack.dispatch.post(
        f"/v1/users/{users['nia']['id']}/password", json={"password": GIVEN}
    )
    assert reset.status_code == 200, reset.text
    assert (await nia.login(GIVEN)).json()["password_change_required"] is True


async def test_repeated_failures_lock_the_account_and_are_audited(
    stack: InProcessStack, clock: ManualClock
) -> None:
    await _add_user(stack, "dana", ["dispatcher"])
    dana = Person(stack, "dana", clock)
    statuses = [(await dana.login("wrong password!")).status_code for _ in range(5)]
    assert statuses == [401, 401, 401, 401, 423]
    assert (await dana.login("wrong password!")).json()["detail"].startswith("too many")
    locked = await dana.login()  # the right password does not help while locked
    assert locked.status_code == 423
    assert "locked until" in locked.json()["detail"]
    # An unknown name is refused in the very words of a wrong password, and locked after
    # as many failures: neither 401 nor 423 tells which names exist.
    nobody = Person(stack, "nobody-here", clock)
    unknown = await nobody.login()
    assert unknown.status_code == 401
    assert unknown.json()["detail"] == "the username, password or code is not right"
    statuses = [unknown.status_code] + [(await nobody.login()).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 401, 423]
    still = await nobody.login()
    assert still.status_code == 423
    assert still.json()["detail"].startswith("too many failed sign-ins: locked until")

    clock.advance(16 * 60)
    assert (await dana.login()).status_code == 200

    auditor = await _auditor_token(stack, clock)

    async def trail() -> list[str] | None:
        async with _anonymous(stack, "dispatch") as client:
            found = await client.get(
                "/v1/audit",
                params={"actor": "dana"},
                headers={"Authorization": f"Bearer {auditor}"},
            )
        actions = [r["action"] for r in found.json()]
        return actions if "auth.locked" in actions else None

    actions = await eventually(trail, what="the lockout in the audit trail")
    assert actions.count("auth.sign_in_failed") >= 5


async def _auditor_token(stack: InProcessStack, clock: ManualClock) -> str:
    await _add_user(stack, "audrey", ["auditor"])
    tokens = await Person(stack, "audrey", clock).sign_in()
    token: str = tokens["access_token"]
    return token


async def test_sessions_refresh_while_used_and_end_after_inactivity_or_sign_out(
    stack: InProcessStack, clock: ManualClock
) -> None:
    await _add_user(stack, "sam", ["supervisor"])
    sam = Person(stack, "sam", clock)
    tokens = await sam.sign_in()
    async with _anonymous(stack, "dispatch") as client:
        clock.advance(20 * 60)  # active within the 30-minute idle window
        renewed = await client.post(
            "/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
        )
        assert renewed.status_code == 200
        used_up = await client.post(
            "/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
        )
        assert used_up.status_code == 401  # each refresh token works once

    idle_session = await _sign_in_again(sam)
    async with _anonymous(stack, "dispatch") as client:
        clock.advance(31 * 60)
        idle = await client.post(
            "/v1/auth/refresh", json={"refresh_token": idle_session["refresh_token"]}
        )
        assert idle.status_code == 401
        assert "inactivity" in idle.json()["detail"]

        clock.advance(-31 * 60)  # back to the idle sign-in's time, to check sign-out
    fresh = await _sign_in_again(sam)
    access = fresh["access_token"]
    assert await _as(stack, "dispatch", access, "GET", "/v1/units") == 200
    async with _anonymous(stack, "dispatch") as client:
        out = await client.post("/v1/auth/logout", headers={"Authorization": f"Bearer {access}"})
    assert out.status_code == 204
    assert await _as(stack, "dispatch", access, "GET", "/v1/units") == 401
    async with _anonymous(stack, "dispatch") as client:
        after = await client.post(
            "/v1/auth/refresh", json={"refresh_token": fresh["refresh_token"]}
        )
    assert after.status_code == 401


async def _sign_in_again(person: Person) -> dict[str, Any]:
    person.clock.advance(30)  # a new TOTP step: the last code was used
    return await person.sign_in()


async def test_a_disabled_user_is_refused_by_every_service(
    stack: InProcessStack, clock: ManualClock
) -> None:
    user = await _add_user(stack, "drew", ["dispatcher"])
    access = (await Person(stack, "drew", clock).sign_in())["access_token"]
    assert await _as(stack, "notify", access, "GET", "/v1/messages") == 200

    disabled = await stack.dispatch.post(f"/v1/users/{user['id']}/disable")
    assert disabled.json()["disabled"] is True
    assert await _as(stack, "dispatch", access, "GET", "/v1/units") == 401

    async def refused_everywhere() -> bool:
        triage = await _as(stack, "triage", access, "POST", "/v1/triage/preview")
        notify = await _as(stack, "notify", access, "GET", "/v1/messages")
        return triage == 401 and notify == 401

    await eventually(refused_everywhere, what="the revocation reaching triage and notify")
    assert (await Person(stack, "drew", clock).login()).status_code == 401


async def test_api_keys_are_scoped_rotated_and_revoked(stack: InProcessStack) -> None:
    refused = await stack.dispatch.post("/v1/clients", json={"name": "cad", "roles": ["admin"]})
    assert refused.status_code == 422
    assert "roles" in refused.text

    made = await stack.dispatch.post("/v1/clients", json={"name": "mdt-7", "roles": ["unit"]})
    assert made.status_code == 201
    key = made.json()["api_key"]
    assert key.startswith("crk_")
    listed = (await stack.dispatch.get("/v1/clients")).json()
    assert key not in str(listed)  # shown once, kept only as a hash

    async def exchange(api_key: str) -> httpx.Response:
        async with _anonymous(stack, "dispatch") as client:
            return await client.post("/v1/auth/token", json={"api_key": api_key})

    got = await exchange(key)
    assert got.status_code == 200
    access = got.json()["access_token"]
    assert got.json()["refresh_token"] is None
    assert await _as(stack, "dispatch", access, "GET", "/v1/units") == 403  # a unit reports only

    rotated = await stack.dispatch.post(f"/v1/clients/{made.json()['client']['id']}/rotate")
    new_key = rotated.json()["api_key"]
    assert (await exchange(key)).status_code == 401
    assert await _as(stack, "dispatch", access, "POST", "/v1/units/x/status") == 401
    assert (await exchange(new_key)).status_code == 200

    await stack.dispatch.post(f"/v1/clients/{made.json()['client']['id']}/revoke")
    assert (await exchange(new_key)).status_code == 401
    assert (await exchange("crk_not-a-key")).status_code == 401


async def test_a_reused_refresh_token_ends_the_whole_session(
    stack: InProcessStack, clock: ManualClock
) -> None:
    """A used-up refresh token coming back means a copy exists: nobody keeps the session."""
    await _add_user(stack, "riley", ["dispatcher"])
    riley = Person(stack, "riley", clock)
    first = await riley.sign_in()
    async with _anonymous(stack, "dispatch") as client:
        renewed = await client.post(
            "/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
        )
        assert renewed.status_code == 200
        access = renewed.json()["access_token"]
        assert await _as(stack, "dispatch", access, "GET", "/v1/units") == 200

        replayed = await client.post(
            "/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
        )
        assert replayed.status_code == 401
        # The token from the first refresh, and its access token, stop working too.
        after = await client.post(
            "/v1/auth/refresh", json={"refresh_token": renewed.json()["refresh_token"]}
        )
        assert after.status_code == 401
    assert await _as(stack, "dispatch", access, "GET", "/v1/units") == 401

    # A token dispatch never issued ends nobody's session.
    other = await _sign_in_again(riley)
    async with _anonymous(stack, "dispatch") as client:
        forged = f"{other['refresh_token'].rsplit('.', 1)[0]}.not-our-mac"
        assert (
            await client.post("/v1/auth/refresh", json={"refresh_token": forged})
        ).status_code == 401
        kept = await client.post("/v1/auth/refresh", json={"refresh_token": other["refresh_token"]})
    assert kept.status_code == 200


async def test_a_service_client_signing_out_revokes_its_token(stack: InProcessStack) -> None:
    made = await stack.dispatch.post("/v1/clients", json={"name": "cad-2", "roles": ["dispatcher"]})
    key = made.json()["api_key"]
    async with _anonymous(stack, "dispatch") as client:
        one = (await client.post("/v1/auth/token", json={"api_key": key})).json()["access_token"]
        two = (await client.post("/v1/auth/token", json={"api_key": key})).json()["access_token"]
        out = await client.post("/v1/auth/logout", headers={"Authorization": f"Bearer {one}"})
    assert out.status_code == 204
    assert await _as(stack, "dispatch", one, "GET", "/v1/units") == 401
    assert await _as(stack, "dispatch", two, "GET", "/v1/units") == 200  # only that token

    async def refused_everywhere() -> bool:
        return await _as(stack, "notify", one, "GET", "/v1/messages") == 401

    await eventually(refused_everywhere, what="the sign-out reaching notify")


async def test_reserved_names_and_zoned_times(stack: InProcessStack) -> None:
    for reserved in ("local-operator", "Local-Operator", "dispatch", "system"):
        body = {
            "username": reserved,
            "display_name": "Operator",
            "roles": ["admin"],
            "password": PASSWORD,
        }
        refused = await stack.dispatch.post("/v1/users", json=body)
        assert refused.status_code == 422, reserved
        assert "reserved" in refused.json()["detail"]

    # Every time in an account listing carries its offset, on SQLite as on PostgreSQL.
    await _add_user(stack, "zoe", ["dispatcher"])
    await stack.dispatch.post("/v1/clients", json={"name": "cad-3", "roles": ["dispatcher"]})
    for path in ("/v1/users", "/v1/clients"):
        for row in (await stack.dispatch.get(path)).json():
            times = [v for k, v in row.items() if k.endswith(("_at", "_until")) and v]
            assert times, row
            for value in times:
                assert datetime.fromisoformat(value).utcoffset() is not None, (path, value)
