"""NENA-STA-024 conveyance over a real dispatch process: a CAD subscribes and is told of changes.

subscribe → subscribeResponse → event (at once, then on each change) → eventResponse →
unsubscribe → unsubscribeResponse, on a WebSocket authenticated like the API.
"""

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from schemas.eido import EIDO_MEDIA_TYPE, EidoDocument, dangling_references
from services.cli.stack import ServiceProcess, Tansu
from tests.support.databases import DatabaseTarget
from tests.support.dispatch_process import dispatch_process
from tests.support.inprocess import mint_token
from tests.support.waiting import eventually

TRANSFER = json.loads(
    (Path(__file__).parents[1] / "fixtures" / "eido_call_transfer.json").read_text()
)
CAD_TOKEN = mint_token(["cad"], name="cad-county")
AUDITOR = {"Authorization": f"Bearer {mint_token(['auditor'], name='ws-auditor')}"}
# A bound on waiting for the server, not a performance target.
WAIT_S = 30


@pytest.fixture
async def dispatch(
    broker: Tansu, sqlite_db: DatabaseTarget, tmp_path: Path
) -> AsyncIterator[ServiceProcess]:
    async with dispatch_process(broker.bootstrap, sqlite_db, tmp_path) as process:
        yield process


def _ws_url(dispatch: ServiceProcess) -> str:
    return dispatch.url.replace("http://", "ws://") + "/v1/eido/subscriptions"


async def _next(socket: ClientConnection, key: str) -> dict[str, Any]:
    while True:
        message = json.loads(await socket.recv(decode=True))
        if key in message:
            body: dict[str, Any] = message[key]
            return body


async def test_a_subscriber_is_told_of_a_new_incident_and_answers(
    dispatch: ServiceProcess,
) -> None:
    headers = {"Authorization": f"Bearer {CAD_TOKEN}"}
    async with connect(
        _ws_url(dispatch), additional_headers=headers, proxy=None, open_timeout=WAIT_S
    ) as socket:
        await socket.send(
            json.dumps(
                {
                    "subscribe": {
                        "requestId": "req-1",
                        "requestType": "EIDO",
                        "requestSubType": "new",
                        "requestAccepts": EIDO_MEDIA_TYPE,
                    }
                }
            )
        )
        answer = await _next(socket, "subscribeResponse")
        assert answer["statusCode"] == 200
        assert answer["requestId"] == "req-1"
        subscription_id = answer["subscriptionId"]
        # At once: every active incident this CAD may read; none yet.
        first = await _next(socket, "event")
        assert first["subscriptionId"] == subscription_id
        assert first["notification"] == []
        await socket.send(
            json.dumps(
                {"eventResponse": {"transactionId": first["transactionId"], "statusCode": 200}}
            )
        )

        async with httpx.AsyncClient(base_url=dispatch.url, timeout=WAIT_S) as client:
            posted = await client.post(
                "/v1/eido",
                content=json.dumps(TRANSFER),
                headers={**headers, "Content-Type": EIDO_MEDIA_TYPE},
            )
        assert posted.status_code == 201, posted.text

        event = await _next(socket, "event")
        assert event["subscriptionId"] == subscription_id
        [eido] = event["notification"]
        assert eido["$id"] == TRANSFER["$id"]
        assert EidoDocument.model_validate(eido).wire() == eido
        assert dangling_references(eido) == []
        await socket.send(
            json.dumps(
                {"eventResponse": {"transactionId": event["transactionId"], "statusCode": 200}}
            )
        )

        await socket.send(json.dumps({"unsubscribe": {"subscriptionId": subscription_id}}))
        gone = await _next(socket, "unsubscribeResponse")
        assert gone == {
            "subscriptionId": subscription_id,
            "statusCode": 200,
            "statusText": "Unsubscribed",
        }

    # The subscription and the CAD's reads are in the audit trail like any access.
    async with httpx.AsyncClient(base_url=dispatch.url, timeout=WAIT_S) as client:

        async def audited() -> list[dict[str, Any]] | None:
            found = await client.get("/v1/audit", params={"actor": "cad-county"}, headers=AUDITOR)
            records: list[dict[str, Any]] = found.json()
            actions = {r["action"] for r in records}
            wanted = {"WS /v1/eido/subscriptions subscribe", "POST /v1/eido"}
            return records if wanted <= actions else None

        await eventually(audited, timeout_s=WAIT_S, what="the subscription audited")


@pytest.mark.parametrize("roles", [None, ["call_taker"], ["unit"]])
async def test_a_subscriber_without_a_reading_role_is_refused(
    dispatch: ServiceProcess, roles: list[str] | None
) -> None:
    headers = {"Authorization": f"Bearer {mint_token(roles, name='ws-x')}"} if roles else {}
    with pytest.raises(InvalidStatus) as refused:
        async with connect(_ws_url(dispatch), additional_headers=headers, proxy=None):
            pass
    assert refused.value.response.status_code == 403


async def test_a_desk_follows_one_incident_and_hears_of_the_cads_update(
    dispatch: ServiceProcess,
) -> None:
    cad = {"Authorization": f"Bearer {CAD_TOKEN}"}
    desk = {"Authorization": f"Bearer {mint_token(['dispatcher'], name='ws-desk')}"}
    async with httpx.AsyncClient(base_url=dispatch.url, timeout=WAIT_S) as client:
        posted = await client.post("/v1/eido", json=TRANSFER, headers=cad)
        incident_id = posted.json()["incident_id"]
        async with connect(
            _ws_url(dispatch), additional_headers=desk, proxy=None, open_timeout=WAIT_S
        ) as socket:
            subscribe = {
                "requestId": "req-9",
                "requestType": "EIDO",
                "requestSubType": "single",
                "incidentId": incident_id,
            }
            await socket.send(json.dumps({"subscribe": subscribe}))
            subscription_id = (await _next(socket, "subscribeResponse"))["subscriptionId"]
            [now] = (await _next(socket, "event"))["notification"]
            assert now["incidentComponent"]["internalIncidentId"] == incident_id

            update = {**TRANSFER, "lastUpdateTimeStamp": "2026-12-08T02:20:00Z"}
            update["notesComponent"] = [
                *TRANSFER["notesComponent"],
                {**TRANSFER["notesComponent"][0], "$id": "note-3", "notesActionComments": "Awake"},
            ]
            assert (await client.post("/v1/eido", json=update, headers=cad)).status_code == 200
            event = await _next(socket, "event")
            assert event["subscriptionId"] == subscription_id
            [later] = event["notification"]
            notes = [n["notesActionComments"] for n in later["notesComponent"]]
            assert any("Awake" in note for note in notes)  # the desk sees the timeline

            await socket.send(
                json.dumps({"subscribe": {**subscribe, "requestId": "r", "incidentId": "nope"}})
            )
            assert (await _next(socket, "subscribeResponse"))["statusCode"] == 404
