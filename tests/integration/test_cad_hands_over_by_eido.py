"""A PSAP's CAD hands a call over as an EIDO and reads the outcome back, over a real broker and DB.

EIDO in → the same intake as POST /v1/calls → triage → units offered → GET /EIDO/{id} shows
them as emergency resources → closed → the EIDO carries the APCO disposition. A repeat is the
same incident; a bad document is refused with its path named and nothing written.
"""

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from schemas.eido import EIDO_MEDIA_TYPE, EidoDocument, dangling_references
from tests.support.flow import submit, until_texted
from tests.support.inprocess import InProcessStack, mint_token
from tests.support.waiting import eventually

TRANSFER = json.loads(
    (Path(__file__).parents[1] / "fixtures" / "eido_call_transfer.json").read_text()
)
CAD = {"Authorization": f"Bearer {mint_token(['cad'], name='cad-county')}"}
OTHER_CAD = {"Authorization": f"Bearer {mint_token(['cad'], name='cad-neighbour')}"}
AUDITOR = {"Authorization": f"Bearer {mint_token(['auditor'], name='eido-auditor')}"}


@pytest.fixture
async def cad(stack: InProcessStack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=stack.apps["dispatch"]), base_url="http://dispatch"
    ) as client:
        yield client


async def _post(client: httpx.AsyncClient, document: dict[str, Any]) -> httpx.Response:
    return await client.post(
        "/v1/eido",
        content=json.dumps(document),
        headers={**CAD, "Content-Type": EIDO_MEDIA_TYPE},
    )


async def test_an_eido_becomes_an_incident_and_its_outcome_goes_back(
    stack: InProcessStack, cad: httpx.AsyncClient
) -> None:
    accepted = await _post(cad, TRANSFER)
    assert accepted.status_code == 201, accepted.text
    incident_id = accepted.json()["incident_id"]

    view = await until_texted(stack.dispatch, incident_id)
    assert view["source"] == "cad"
    assert "naloxone" in view["triage"]["flags"]  # OD from the CAD, weighed with the notes
    assert {a["role"] for a in view["assignments"]} == {"emt", "clinician"}

    out = await cad.get(f"/EIDO/{TRANSFER['$id']}", headers=CAD)
    assert out.status_code == 200, out.text
    assert out.headers["content-type"].startswith(EIDO_MEDIA_TYPE)
    eido = out.json()
    assert EidoDocument.model_validate(eido).wire() == eido
    assert dangling_references(eido) == []
    assert eido["$id"] == TRANSFER["$id"]  # the CAD's own incident id comes back
    assert eido["incidentComponent"]["incidentTypeCommonRegistryText"] == "OD"
    assert {r["emergencyResourceName"] for r in eido["emergencyResourceComponent"]} == {
        a["call_sign"] for a in view["assignments"]
    }
    assert "fentanyl" not in out.text  # a CAD gets no narrative
    assert "3035550142" not in out.text  # nor the caller's number

    closed = await stack.dispatch.post(
        f"/v1/incidents/{incident_id}/close", json={"disposition": "warm_handoff_completed"}
    )
    assert closed.status_code == 200, closed.text
    after = (await cad.get(f"/EIDO/{TRANSFER['$id']}", headers=CAD)).json()
    [disposition] = after["incidentComponent"]["dispositionComponent"]
    assert disposition["dispositionCommonRegistryCode"] == "REFERRED"
    assert after["incidentComponent"]["incidentStatusCommonRegistryText"] == ["Closed"]

    # The desk reads the same incident by its own id, with the caller it may see anyway.
    desk = await stack.dispatch.get(f"/v1/incidents/{incident_id}/eido")
    assert desk.status_code == 200
    assert "tel:+13035550142" in desk.text
    # Another CAD does not learn the incident exists.
    assert (await cad.get(f"/EIDO/{TRANSFER['$id']}", headers=OTHER_CAD)).status_code == 404

    # A dereference is a read of the incident: in the audit trail like any other.
    async def audited() -> list[dict[str, Any]] | None:
        found = await cad.get("/v1/audit", params={"action": "/EIDO/"}, headers=AUDITOR)
        records: list[dict[str, Any]] = found.json()
        return records if {r["outcome"] for r in records} >= {"200", "404"} else None

    reads = await eventually(audited, what="the EIDO reads audited")
    assert {(r["target_type"], r["target_id"]) for r in reads} == {("eido", TRANSFER["$id"])}


async def test_the_same_eido_twice_is_one_incident_and_an_update_adds_its_notes(
    stack: InProcessStack, cad: httpx.AsyncClient
) -> None:
    first = await _post(cad, TRANSFER)
    again = await _post(cad, TRANSFER)
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["incident_id"] == first.json()["incident_id"]

    update = json.loads(json.dumps(TRANSFER))
    update["lastUpdateTimeStamp"] = "2026-12-08T02:14:00Z"
    update["notesComponent"].append(
        {**update["notesComponent"][0], "$id": "note-2", "notesActionComments": "He is breathing."}
    )
    updated = await _post(cad, update)
    assert updated.status_code == 200
    assert updated.json()["incident_id"] == first.json()["incident_id"]
    view = (await stack.dispatch.get(f"/v1/incidents/{first.json()['incident_id']}")).json()
    [entry] = [e for e in view["timeline"] if e["kind"] == "eido.updated"]
    assert "He is breathing." in entry["summary"]
    listed = (await stack.dispatch.get("/v1/incidents")).json()
    assert len(listed) == 1


def _by_reference_only(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Every location as a URL only (which this service never fetches)."""
    scene, device = document["locationComponent"]
    scene = {k: v for k, v in scene.items() if k != "locationByValue"}
    scene["locationByReferenceUrl"] = "https://lis.carrier.example/loc/scene"
    return [scene, device]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            lambda d: d["incidentComponent"].pop("incidentTypeCommonRegistryText"),
            "incidentComponent.incidentTypeCommonRegistryText",
        ),
        (
            lambda d: d["callComponent"][0].update(personReference=[{"$ref": "nobody"}]),
            "callComponent.0.personReference.0.$ref",
        ),
        (lambda d: d.update(locationComponent=_by_reference_only(d)), "locationComponent"),
    ],
)
async def test_a_bad_eido_is_refused_naming_the_path_and_nothing_is_written(
    stack: InProcessStack, cad: httpx.AsyncClient, change: Any, field: str
) -> None:
    document = json.loads(json.dumps(TRANSFER))
    change(document)
    refused = await _post(cad, document)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert [error["field"] for error in refused.json()["errors"]] == [field]
    assert (await stack.dispatch.get("/v1/incidents")).json() == []


async def test_a_call_taken_here_reads_as_an_eido_by_its_urn_but_not_by_a_cad(
    stack: InProcessStack, cad: httpx.AsyncClient
) -> None:
    incident_id = await submit(stack.dispatch)
    own = await stack.dispatch.get(f"/v1/incidents/{incident_id}/eido")
    assert own.status_code == 200, own.text
    urn = own.json()["$id"]
    assert incident_id in urn
    again = await stack.dispatch.get(f"/EIDO/{urn}")
    assert again.json()["incidentComponent"]["internalIncidentId"] == incident_id
    assert (await cad.get(f"/EIDO/{urn}", headers=CAD)).status_code == 404
    assert (await cad.get(f"/v1/incidents/{incident_id}/eido", headers=CAD)).status_code == 404


async def test_an_eido_for_a_jurisdiction_without_a_policy_is_refused(
    stack: InProcessStack, cad: httpx.AsyncClient
) -> None:
    refused = await cad.post(
        "/v1/eido", params={"jurisdiction": "atlantis"}, json=TRANSFER, headers=CAD
    )
    assert refused.status_code == 422
    assert "jurisdiction" in refused.json()["detail"]
    assert (await stack.dispatch.get("/v1/incidents")).json() == []


async def test_a_disposition_code_chosen_at_close_is_what_the_cad_gets(
    stack: InProcessStack, cad: httpx.AsyncClient
) -> None:
    accepted = await _post(cad, TRANSFER)
    incident_id = accepted.json()["incident_id"]
    await until_texted(stack.dispatch, incident_id)

    # Not a code of the table: 422 naming the field, and the incident stays open.
    refused = await stack.dispatch.post(
        f"/v1/incidents/{incident_id}/close",
        json={"disposition": "warm_handoff_completed", "apco_disposition": "HANDED_OVER"},
    )
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "apco_disposition" in {e["field"].rsplit(".", 1)[-1] for e in refused.json()["errors"]}
    assert (await stack.dispatch.get(f"/v1/incidents/{incident_id}")).json()["status"] != "closed"

    # Chosen: sent instead of REFERRED, which warm_handoff_completed maps to.
    closed = await stack.dispatch.post(
        f"/v1/incidents/{incident_id}/close",
        json={"disposition": "warm_handoff_completed", "apco_disposition": "TRANSPORTED"},
    )
    assert closed.status_code == 200, closed.text
    after = (await cad.get(f"/EIDO/{TRANSFER['$id']}", headers=CAD)).json()
    [disposition] = after["incidentComponent"]["dispositionComponent"]
    assert disposition["dispositionCommonRegistryCode"] == "TRANSPORTED"
    assert disposition["dispositionDescriptionText"] == "warm_handoff_completed"
    assert any(
        "APCO disposition TRANSPORTED" in entry["summary"] for entry in closed.json()["timeline"]
    )
