"""No secret and no full phone number reaches the logs, whatever the services do.

A whole run — sign-in with password and TOTP, refresh, an API key exchanged, a
call with a caller's number, offers texted to responders, a reply, the
responder page — with every log record captured at DEBUG and rendered as the
services render it; then the text is searched for each secret it used.
"""

import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pyotp
import pytest
import pytest_asyncio

from services.cli.stack import Tansu
from services.common.logs import JsonFormatter
from tests.support.databases import DatabaseTarget
from tests.support.flow import incident, submit
from tests.support.inprocess import AUTH_SECRET, DEMO_CALL, TOKEN, InProcessStack
from tests.support.waiting import eventually

PASSWORD = "a passphrase nobody should log"
GIVEN = "the admin's passphrase nobody should log"
RESPONDER = "+17205550104"


@pytest_asyncio.fixture
async def stack(
    broker: Tansu, database: DatabaseTarget, tmp_path: Path
) -> AsyncIterator[InProcessStack]:
    roster = tmp_path / "roster.json"
    roster.write_text(
        '[{"call_sign": "STAR-9", "agency": "STAR", "roles": ["clinician"], '
        f'"phone": "{RESPONDER}", "lat": 39.74, "lon": -104.99}}]'
    )
    async with InProcessStack(broker.bootstrap, database, tmp_path, roster=roster) as s:
        yield s


async def test_a_whole_run_logs_no_secret(
    stack: InProcessStack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    anonymous = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=stack.apps["dispatch"]), base_url="http://dispatch"
    )
    user = {
        "username": "lee",
        "display_name": "Lee",
        "roles": ["dispatcher"],
        "password": GIVEN,
    }
    assert (await stack.dispatch.post("/v1/users", json=user)).status_code == 201
    change = {"username": "lee", "password": GIVEN, "new_password": PASSWORD}
    assert (await anonymous.post("/v1/auth/password", json=change)).status_code == 204
    step = (
        await anonymous.post("/v1/auth/login", json={"username": "lee", "password": PASSWORD})
    ).json()
    totp_secret = parse_qs(urlsplit(step["enrol_uri"]).query)["secret"][0]
    code = pyotp.TOTP(totp_secret).now()
    tokens = (
        await anonymous.post("/v1/auth/mfa", json={"mfa_token": step["mfa_token"], "code": code})
    ).json()
    renewed = (
        await anonymous.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    ).json()
    wrong = {"username": "lee", "password": PASSWORD + "!"}
    assert (await anonymous.post("/v1/auth/login", json=wrong)).status_code == 401
    client = (
        await stack.dispatch.post("/v1/clients", json={"name": "mdt-9", "roles": ["unit"]})
    ).json()
    exchanged = (await anonymous.post("/v1/auth/token", json={"api_key": client["api_key"]})).json()

    incident_id = await submit(stack.dispatch, DEMO_CALL)

    async def link() -> str | None:
        params = {"incident_id": incident_id}
        sent = (await stack.notify.get("/v1/messages", params=params)).json()
        found = [re.search(r"/r/([\w-]+)", m["body"]) for m in sent if m["status"] == "sent"]
        return next((f.group(1) for f in found if f), None)

    link_token = await eventually(link, what="the offer SMS")
    code_4 = (await incident(stack.dispatch, incident_id))["code"]
    await stack.notify.post(
        "/v1/console/sms/inbound", json={"from": RESPONDER, "body": f"Y {code_4}"}
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=stack.apps["notify"]), base_url="http://notify"
    ) as phone:
        assert (await phone.get(f"/r/{link_token}")).status_code == 200
    await anonymous.aclose()

    secrets_used = {
        "password": PASSWORD,
        "admin's password": GIVEN,
        "TOTP secret": totp_secret,
        "mfa token": step["mfa_token"],
        "access token": tokens["access_token"],
        "refresh token": tokens["refresh_token"],
        "renewed refresh token": renewed["refresh_token"],
        "API key": client["api_key"],
        "client access token": exchanged["access_token"],
        "admin test token": TOKEN,
        "signing secret": AUTH_SECRET,
        "responder link token": link_token,
        "caller phone": DEMO_CALL["caller"]["phone"],
        "responder phone": RESPONDER,
    }
    formatter = JsonFormatter("any")
    logged = "\n".join(formatter.format(r) for r in caplog.records)
    # The run really was logged, down to each SMS sent to a responder.
    assert "sms.console_sent" in {r.getMessage() for r in caplog.records}
    leaked = [name for name, value in secrets_used.items() if value in logged]
    assert leaked == []
