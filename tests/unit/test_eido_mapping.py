"""EIDO models and mapping without I/O: a CAD's EIDO read, an incident written."""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from pydantic import ValidationError

from schemas.api import AssignmentView, IncidentView
from schemas.calls import Location
from schemas.eido import EidoDocument, dangling_references, duplicate_ids
from schemas.triage import TriageDecision
from schemas.vocabulary import Disposition
from services.dispatch.domain.eido_mapping import (
    APCO_FINDINGS,
    CATEGORY_TO_APCO,
    DISPOSITION_TO_APCO,
    EidoRefused,
    Issuer,
    call_from_eido,
    e164,
    eido_from_incident,
)

FIXTURE = Path(__file__).parents[1] / "fixtures" / "eido_call_transfer.json"
# The JSON Schema derived from our models (python -m schemas.generate), checked in.
SCHEMA = Path(__file__).parents[2] / "schemas" / "jsonschema" / "api.eido.schema.json"
ISSUER = Issuer("crisis.example-county.gov", "dispatch.crisis.example-county.gov")
# The 197 APCO incident types as NENA's apco.yaml enumerates them: only the ones mapped here.
APCO_TYPES_USED = {
    *APCO_FINDINGS,
    *(code for code, _ in CATEGORY_TO_APCO.values()),
    "SUICIDE",
    "WEAPON",
}


def transfer() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(FIXTURE.read_text())
    return data


def test_a_call_transfer_round_trips_through_the_models() -> None:
    document = EidoDocument.model_validate(transfer())
    again = EidoDocument.model_validate(document.wire())
    assert again == document
    assert again.wire()["$id"] == transfer()["$id"]
    assert dangling_references(document.wire()) == []


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda d: d.pop("eidoVersion"), "eidoVersion"),
        (lambda d: d.update(eidoVersion="2.0"), "eidoVersion"),
        (lambda d: d.pop("agencyComponent"), "agencyComponent"),
        (
            lambda d: d["incidentComponent"].pop("incidentTypeCommonRegistryText"),
            "incidentTypeCommonRegistryText",
        ),
        (lambda d: d["callComponent"][0].update(direction="sideways"), "direction"),
        (lambda d: d.pop("$id"), "$id"),
        (lambda d: d.update(lastUpdateTimeStamp=0), "lastUpdateTimeStamp"),
    ],
)
def test_required_fields_and_closed_enums_are_checked(change: Any, where: str) -> None:
    data = transfer()
    change(data)
    with pytest.raises(ValidationError) as refused:
        EidoDocument.model_validate(data)
    assert any(where in map(str, error["loc"]) for error in refused.value.errors())


def test_a_reference_to_no_component_is_named_by_its_path() -> None:
    data = transfer()
    data["callComponent"][0]["personReference"] = [{"$ref": "nobody"}]
    assert dangling_references(EidoDocument.model_validate(data).wire()) == [
        (("callComponent", 0, "personReference", 0, "$ref"), "nobody")
    ]


def test_a_second_component_with_the_same_id_is_named_by_its_path() -> None:
    data = transfer()
    data["agentComponent"][0]["$id"] = "note-1"
    assert duplicate_ids(EidoDocument.model_validate(data).wire()) == [
        (("agentComponent", 0, "$id"), "note-1")
    ]


def test_the_transfer_becomes_an_overdose_call_at_its_place() -> None:
    cad = call_from_eido(EidoDocument.model_validate(transfer()))
    call = cad.call
    assert cad.apco_type == "OD"
    assert call.source == "cad"
    assert call.answers.overdose_suspected is True
    assert call.answers.weapons is None  # a type never says "no"
    assert "nodding out" in call.narrative
    assert "<p>" not in call.narrative
    assert (call.location.lat, call.location.lon) == (39.7392, -104.9903)
    assert call.location.address == "1437 Bannock St, Denver, CO"
    assert call.caller is not None
    assert call.caller.phone == "+13035550142"


def test_a_location_only_by_reference_is_refused_naming_it() -> None:
    data = transfer()
    data["locationComponent"] = data["locationComponent"][1:]
    with pytest.raises(EidoRefused) as refused:
        call_from_eido(EidoDocument.model_validate(data))
    assert refused.value.path == ("locationComponent",)


def test_a_pidf_lo_with_a_dtd_is_refused() -> None:
    data = transfer()
    data["locationComponent"][0]["locationByValue"] = (
        '<!DOCTYPE x [<!ENTITY a "aaaa">]><presence>&a;</presence>'
    )
    with pytest.raises(EidoRefused) as refused:
        call_from_eido(EidoDocument.model_validate(data))
    assert refused.value.path == ("locationComponent", 0, "locationByValue")


@pytest.mark.parametrize(
    ("uri", "phone"),
    [("tel:+13035550142", "+13035550142"), ("tel:3035550142", "+13035550142"), ("sip:x@y", None)],
)
def test_call_back_numbers(uri: str, phone: str | None) -> None:
    assert e164(uri) == phone


def _view(**changes: Any) -> IncidentView:
    now = datetime(2026, 12, 8, 2, 30, tzinfo=UTC)
    base: dict[str, Any] = {
        "id": "inc-1",
        "code": "4821",
        "status": "dispatched",
        "received_at": now,
        "updated_at": now,
        "source": "cad",
        "jurisdiction": "default",
        "narrative": "roommate nodding out, uses fentanyl",
        "answers": None,
        "location": Location(lat=39.7392, lon=-104.9903, address="1437 Bannock St"),
        "caller": {"phone": "+13035550142"},
        "triage": TriageDecision.model_validate(
            {
                "category": "overdose",
                "priority": 1,
                "response_model": "firehouse",
                "roles": ["emt", "clinician"],
                "flags": ["overdose", "naloxone"],
                "rationale": [],
                "policy_version": "default-1",
            }
        ),
        "assignments": [
            AssignmentView(
                id="a1",
                unit_id="u1",
                call_sign="MEDIC-1",
                role="emt",
                status="en_route",
                eta_seconds=300,
                offered_at=now,
                updated_at=now,
            ),
            AssignmentView(
                id="a2",
                unit_id="u2",
                call_sign="CRISIS-2",
                role="clinician",
                status="declined",
                offered_at=now,
                updated_at=now,
            ),
        ],
    }
    return IncidentView.model_validate({**base, **changes})


def test_an_incident_is_written_as_a_valid_eido() -> None:
    document = eido_from_incident(
        _view(), eido_id="urn:x:1", issuer=ISSUER, cad_type="OD", entitled=True
    )
    wire = document.wire()
    assert EidoDocument.model_validate(wire) == document
    assert dangling_references(wire) == []
    assert wire["incidentComponent"]["incidentTypeCommonRegistryText"] == "OD"
    [unit] = wire["emergencyResourceComponent"]  # the declined offer is no resource
    assert unit["emergencyResourceName"] == "MEDIC-1"
    assert unit["primaryUnitStatusRegistryText"] == "Enroute"
    assert "39.7392 -104.9903" in wire["locationComponent"][0]["locationByValue"]
    assert wire["callbackComponent"][0]["callBackInformationUri"] == ["tel:+13035550142"]


def test_a_cad_gets_no_caller_no_narrative_and_no_flags() -> None:
    wire = eido_from_incident(
        _view(), eido_id="urn:x:1", issuer=ISSUER, cad_type="OD", entitled=False
    ).wire()
    text = json.dumps(wire)
    for private in ("3035550142", "fentanyl", "nodding", "naloxone"):
        assert private not in text
    assert "callbackComponent" not in wire


def test_a_closed_incident_carries_its_apco_disposition() -> None:
    closed = _view(
        status="closed", disposition="transported", closed_at=datetime(2026, 12, 8, 3, tzinfo=UTC)
    )
    wire = eido_from_incident(
        closed, eido_id="urn:x:1", issuer=ISSUER, cad_type=None, entitled=False
    ).wire()
    [disposition] = wire["incidentComponent"]["dispositionComponent"]
    assert disposition["dispositionCommonRegistryCode"] == "TRANSPORTED"
    assert disposition["dispositionDescriptionText"] == "transported"


def test_a_code_chosen_at_close_is_sent_instead_of_the_mapped_one() -> None:
    closed = _view(
        status="closed", disposition="transported", closed_at=datetime(2026, 12, 8, 3, tzinfo=UTC)
    )
    wire = eido_from_incident(
        closed,
        eido_id="urn:x:1",
        issuer=ISSUER,
        cad_type=None,
        entitled=False,
        disposition_code="REFUSED",
    ).wire()
    [disposition] = wire["incidentComponent"]["dispositionComponent"]
    assert disposition["dispositionCommonRegistryCode"] == "REFUSED"
    assert disposition["dispositionDescriptionText"] == "transported"


def test_every_disposition_and_category_has_a_code() -> None:
    assert set(DISPOSITION_TO_APCO) == set(Disposition)
    assert all(code.isupper() for code in APCO_TYPES_USED)


@pytest.mark.parametrize("entitled", [True, False])
def test_what_leaves_validates_against_the_derived_json_schema(entitled: bool) -> None:
    validator = jsonschema_rs.validator_for(json.loads(SCHEMA.read_text()))
    closed = _view(status="closed", disposition="no_contact", closed_at=_view().updated_at)
    for view in (_view(), closed, _view(triage=None, assignments=[], caller=None)):
        wire = eido_from_incident(
            view, eido_id="urn:x:1", issuer=ISSUER, cad_type=None, entitled=entitled
        ).wire()
        errors = [f"{e.instance_path}: {e.message}" for e in validator.iter_errors(wire)]
        assert errors == []
    assert validator.is_valid(transfer())
    assert not validator.is_valid({**transfer(), "eidoVersion": "2.0"})
