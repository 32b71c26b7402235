"""The provider directory in Open Referral HSDS 3.0: a document written from the spec reads
into directory entries, a bad one is refused naming each HSDS path, and every export is
valid against corespond's JSON Schema for the HSDS 3.0 objects it uses."""

import json
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from services.dispatch.adapters.provider_files import ProviderIn
from services.dispatch.domain import hsds
from services.dispatch.domain.fhir_mapping import organization_id

ROOT = Path(__file__).parents[2]
DOCUMENT = ROOT / "tests" / "fixtures" / "hsds" / "denver-directory.json"
SCHEMA = json.loads((ROOT / "schemas" / "hsds" / "hsds-3.0-service-page.schema.json").read_text())


def _valid(page: dict[str, Any]) -> None:
    validator = jsonschema_rs.validator_for(SCHEMA, validate_formats=True)
    errors = [f"{list(e.instance_path)}: {e.message}" for e in validator.iter_errors(page)]
    assert errors == []


def _listed(**overrides: Any) -> hsds.ListedService:
    values: dict[str, Any] = {
        "id": "0123456789abcdef0123456789abcdef",
        "organization": "Denver CARES",
        "service_type": "detox",
        "service_name": "Withdrawal management bed",
        "address": "1155 Cherokee St",
        "lat": 39.7343,
        "lon": -104.9908,
        "timezone": "America/Denver",
        "schedule": [{"days": ["mon", "fri"], "opens": "08:00", "closes": "17:00"}],
        "capacity": 6,
        "contact_name": "Charge nurse",
        "public_phone": None,
        "active": True,
    }
    return hsds.ListedService(**{**values, **overrides})


def test_the_document_written_from_the_spec_is_valid_and_reads_into_entries() -> None:
    document = json.loads(DOCUMENT.read_text())
    _valid(document)
    assert hsds.looks_like_hsds(document)
    entries = [ProviderIn.model_validate(e.fields) for e in hsds.read_document(document)]
    mat, shelter = entries
    assert mat.organization == "Colfax Recovery Clinic"
    assert mat.service.type.value == "mat_induction"
    assert mat.location.address == "1600 E Colfax Ave, Denver, CO 80218, US"
    assert (mat.location.lat, mat.location.lon) == (39.7402, -104.9583)
    assert [h.model_dump() for h in mat.schedule] == [
        {"days": ["mon", "tue", "wed", "thu", "fri"], "opens": "07:00", "closes": "19:00"}
    ]
    assert mat.capacity == 3
    assert mat.contact.phone == "+17205550901"
    assert mat.public_phone == "+1 303 555 0190"
    assert shelter.capacity is None
    assert shelter.schedule == []  # open around the clock
    assert shelter.location.address is None


def test_todays_directory_file_is_not_taken_for_hsds() -> None:
    today = json.loads((ROOT / "deploy" / "demo" / "providers.json").read_text())
    assert not hsds.looks_like_hsds(today)


def test_a_bad_document_names_every_hsds_path() -> None:
    document = json.loads(DOCUMENT.read_text())
    service = document["contents"][0]
    service["id"] = "not-a-uuid"
    del service["organization"]["description"]
    service["schedules"][0]["byday"] = "Monday"
    service["schedules"][0]["opens_at"] = "07:00-07:00"
    del service["service_at_locations"][0]["location"]["addresses"][0]["city"]
    del document["contents"][1]["status"]
    with pytest.raises(hsds.HsdsError) as refused:
        hsds.read_document(document)
    paths = {path for path, _message in refused.value.problems}
    assert paths == {
        "contents[0].id",
        "contents[0].organization.description",
        "contents[0].schedules[0].byday",
        "contents[0].schedules[0].opens_at",
        "contents[0].service_at_locations[0].location.addresses[0].city",
        "contents[1].status",
    }


def test_every_export_is_valid_hsds_and_reads_back_the_same() -> None:
    imported = json.loads(DOCUMENT.read_text())["contents"][0]
    listed = [
        _listed(),
        _listed(
            id="fedcba9876543210fedcba9876543210",
            organization="Colfax Recovery Clinic",
            service_type="mat_induction",
            address="1600 E Colfax Ave, Denver, CO 80218, US",
            public_phone="+1 303 555 0190",
            capacity=None,
            contact_name=None,
            schedule=[],
            active=False,
        ),
    ]
    page = hsds.service_page(listed)
    _valid(page)
    _valid(hsds.service_page([]))
    cares, colfax = page["contents"]
    assert cares["organization"]["id"] == organization_id("Denver CARES")  # the FHIR owner id
    assert cares["x-corespond"]["on_call"] == {"name": "Charge nurse"}  # no staff phone out
    assert "addresses" not in cares["service_at_locations"][0]["location"]  # a bare street
    address = colfax["service_at_locations"][0]["location"]["addresses"][0]
    assert address == {
        **address,
        **imported["service_at_locations"][0]["location"]["addresses"][0],
        "id": address["id"],
        "location_id": address["location_id"],
    }
    assert colfax["status"] == "inactive"
    assert colfax["phones"][0]["number"] == "+1 303 555 0190"
    # Read back (with the on-call phone the export withholds), it is the same entry.
    colfax["x-corespond"]["on_call"]["phone"] = "+17205550901"
    back = ProviderIn.model_validate(hsds.read_document(colfax)[0].fields)
    assert back.location.address == listed[1].address
    assert back.service.type.value == "mat_induction"
