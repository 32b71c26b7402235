"""The outbound STA-024 client: corespond subscribes to a partner CAD and takes its incidents.

Against a fake partner written from the spec's message shapes (tests/support), and against
our own WebSocket server in a second dispatch process (its own broker and database): the
two ends of the protocol checked against each other. Nothing calls an outside host.
"""

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from services.cli.stack import Tansu
from services.common.retry import Backoff
from services.dispatch.app.eido_partner import EidoPartnerClient
from tests.support.databases import sqlite_target
from tests.support.dispatch_process import dispatch_process
from tests.support.fake_eido_partner import FakeEidoPartner
from tests.support.inprocess import InProcessStack, mint_token
from tests.support.waiting import eventually

TRANSFER: dict[str, Any] = json.loads(
    (Path(__file__).parents[1] / "fixtures" / "eido_call_transfer.json").read_text()
)
QUICK = Backoff(first_s=0.05, cap_s=0.2)  # reconnects within a test's patience


@asynccontextmanager
async def running(client: EidoPartnerClient) -> AsyncIterator[asyncio.Event]:
    stopping = asyncio.Event()
    task = asyncio.create_task(client.run(stopping))
    try:
        yield stopping
    finally:
        stopping.set()
        await asyncio.wait_for(task, timeout=10)


def _client(stack: InProcessStack, url: str, token: str) -> EidoPartnerClient:
    runtime = stack.apps["dispatch"].state.runtime
    return EidoPartnerClient(
        url=url,
        token=token,
        unit_of_work=runtime.unit_of_work,
        subject="cad-partner",
        backoff=QUICK,
    )


async def _incident_for(stack: InProcessStack, eido_id: str) -> dict[str, Any] | None:
    found = await stack.dispatch.get(f"/EIDO/{eido_id}")
    if found.status_code != 200:
        return None
    eido: dict[str, Any] = found.json()
    return eido


async def test_a_fake_partners_events_become_incidents_and_are_answered(
    sqlite_stack: InProcessStack,
) -> None:
    partner = FakeEidoPartner(refuse_subscriptions=1)
    async with partner.running():
        client = _client(sqlite_stack, partner.url, partner.token)
        async with running(client):
            # The first subscription is refused: the client backs off and subscribes again.
            await partner.until("a second subscribe", lambda: len(partner.sent("subscribe")) == 2)
            await asyncio.wait_for(client.connected.wait(), timeout=30)
            assert all(s["requestType"] == "EIDO" for s in partner.sent("subscribe"))

            bad = json.loads(json.dumps(TRANSFER))
            bad["$id"] = "urn:emergency:uid:incidentid:bad:cad.example-county.gov"
            bad["callComponent"][0]["personReference"] = [{"$ref": "nobody"}]
            first = partner.event([TRANSFER, bad])
            await partner.until("the answer", lambda: bool(partner.sent("eventResponse")))
            [answer] = partner.sent("eventResponse")
            assert answer["transactionId"] == first
            assert answer["statusCode"] == 400  # one of the two was refused, named by path
            assert "notification[1].callComponent.0.personReference.0.$ref" in answer["statusText"]

            eido = await eventually(
                lambda: _incident_for(sqlite_stack, TRANSFER["$id"]), what="the incident"
            )
            incident_id = eido["incidentComponent"]["internalIncidentId"]
            view = (await sqlite_stack.dispatch.get(f"/v1/incidents/{incident_id}")).json()
            assert view["source"] == "cad"
            assert await _incident_for(sqlite_stack, bad["$id"]) is None  # nothing written

            # The same EIDO again is the same incident, answered 200.
            again = partner.event([TRANSFER])
            await partner.until("two answers", lambda: len(partner.sent("eventResponse")) == 2)
            assert partner.sent("eventResponse")[1] == {
                "transactionId": again,
                "statusCode": 200,
                "statusText": "OK",
            }
            listed = (await sqlite_stack.dispatch.get("/v1/incidents")).json()
            assert [i["id"] for i in listed if i["id"] == incident_id] == [incident_id]

            # terminate: answered, then a new connection and subscription.
            partner.terminate("maintenance")
            await partner.until(
                "terminateResponse", lambda: bool(partner.sent("terminateResponse"))
            )
            assert partner.sent("terminateResponse")[0]["statusCode"] == 200
            await partner.until("a third subscribe", lambda: len(partner.sent("subscribe")) == 3)
            await asyncio.wait_for(client.connected.wait(), timeout=30)
            live = client.subscription_id
        # Stopping ends the subscription with unsubscribe.
        assert partner.sent("unsubscribe")[-1]["subscriptionId"] == live


async def test_a_wrong_token_is_refused_and_retried_without_taking_anything(
    sqlite_stack: InProcessStack,
) -> None:
    partner = FakeEidoPartner()
    async with partner.running():
        async with running(_client(sqlite_stack, partner.url, "not-the-token")):
            await eventually(
                lambda: partner.refused_upgrades >= 2 or None, what="two refused upgrades"
            )
        assert partner.sent("subscribe") == []


async def test_our_own_eido_service_feeds_a_second_dispatch(
    sqlite_stack: InProcessStack, tmp_path: Path
) -> None:
    """Dispatch A (a process, its own broker and database) publishes; B subscribes."""
    (tmp_path / "a").mkdir()
    with (tmp_path / "tansu-a.log").open("ab") as log:
        broker_a = Tansu(log=log)
        broker_a.start()
        try:
            async with dispatch_process(
                broker_a.bootstrap, sqlite_target(tmp_path / "a"), tmp_path / "a"
            ) as a:
                await _fed_by(sqlite_stack, a.url)
        finally:
            broker_a.stop()


async def _fed_by(stack: InProcessStack, a_url: str) -> None:
    # B subscribes as a dispatcher of A: it is told of every incident A has.
    token = mint_token(["dispatcher"], name="dispatch-b")
    url = a_url.replace("http://", "ws://") + "/v1/eido/subscriptions"
    client = _client(stack, url, token)
    async with running(client), httpx.AsyncClient(base_url=a_url, trust_env=False) as a:
        await asyncio.wait_for(client.connected.wait(), timeout=60)
        headers = {"Authorization": f"Bearer {mint_token(['cad'], name='cad-a')}"}
        posted = await a.post("/v1/eido", json=TRANSFER, headers=headers)
        assert posted.status_code == 201, posted.text
        # A issues it under the CAD's own $id; B keeps that id and the place.
        eido = await eventually(
            lambda: _incident_for(stack, TRANSFER["$id"]), what="B's incident", timeout_s=60
        )
        incident_id = eido["incidentComponent"]["internalIncidentId"]
        assert incident_id != posted.json()["incident_id"]  # B's own incident
        view = (await stack.dispatch.get(f"/v1/incidents/{incident_id}")).json()
        assert view["source"] == "cad"
        assert view["location"]["address"]

        # A change on A (closed there) reaches B as an update of the same incident.
        desk = {"Authorization": f"Bearer {mint_token(['dispatcher'], name='desk-a')}"}
        closed = await a.post(
            f"/v1/incidents/{posted.json()['incident_id']}/close",
            json={"disposition": "referred", "apco_disposition": "REFERRED"},
            headers=desk,
        )
        assert closed.status_code == 200, closed.text

        async def updated() -> dict[str, Any] | None:
            found = (await stack.dispatch.get(f"/v1/incidents/{incident_id}")).json()
            kinds = [entry["kind"] for entry in found["timeline"]]
            return found if "eido.updated" in kinds else None

        await eventually(updated, what="B told of A's close", timeout_s=60)
        again = await _incident_for(stack, TRANSFER["$id"])
        assert again is not None
        assert again["incidentComponent"]["internalIncidentId"] == incident_id


async def test_an_unexpected_failure_reconnects_instead_of_ending_the_worker() -> None:
    partner = FakeEidoPartner()
    failures: list[str] = []

    async def failing(event: Any) -> dict[str, Any]:
        failures.append(event.transactionId)
        raise RuntimeError("database away")

    def no_database() -> Any:
        raise AssertionError("not reached: take is replaced")

    async with partner.running():
        client = EidoPartnerClient(
            url=partner.url, token=partner.token, unit_of_work=no_database, backoff=QUICK
        )
        client.take = failing  # type: ignore[method-assign]
        async with running(client):
            await asyncio.wait_for(client.connected.wait(), timeout=30)
            partner.event([TRANSFER])
            await partner.until("a second subscribe", lambda: len(partner.sent("subscribe")) == 2)
    assert len(failures) == 1
