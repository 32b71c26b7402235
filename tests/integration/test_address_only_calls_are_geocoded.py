"""Address-only calls are placed from the address points a jurisdiction imported (issue 16,
item 8): exact, misspelt, unknown; a dispatcher's pin overrides; the online geocoder (off by
default) is asked only when configured, here a fake on 127.0.0.1.

Real broker, SQLite and PostgreSQL; the real ``corespond addresses import`` writes the points.
"""

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from services.cli.stack import Tansu
from services.dispatch.adapters.geocoders import NominatimGeocoder
from tests.support.cli import corespond, operator_env
from tests.support.databases import DatabaseTarget
from tests.support.fake_nominatim import FakeNominatim
from tests.support.flow import incident, submit
from tests.support.inprocess import DATA_KEYS, DEMO_CALL, InProcessStack
from tests.support.waiting import eventually

ADDRESSES = """LON,LAT,NUMBER,STREET,UNIT,CITY,DISTRICT,REGION,POSTCODE,ID,HASH
-104.9903,39.7392,1437,BANNOCK ST,,DENVER,,CO,80202,,a1
-104.9903,39.7380,1401,BANNOCK ST,,DENVER,,CO,80202,,a2
-104.9903,39.7400,1460,BANNOCK ST,,DENVER,,CO,80202,,a3
-104.9903,39.7385,1420,BANNOCK ST,,DENVER,,CO,80202,,a6
-104.9875,39.7392,1437,BROADWAY,,DENVER,,CO,80202,,a4
-104.9875,39.7440,1601,BROADWAY,,DENVER,,CO,80202,,a5
"""
ROSTER = [
    {
        "call_sign": "STAR-1",
        "agency": "STAR",
        "roles": ["clinician"],
        "phone": "+17205550901",
        "lat": 39.7450,
        "lon": -104.9903,
    }
]


def _call(address: str) -> dict[str, Any]:
    return {**DEMO_CALL, "location": {"address": address}}


async def _import(database: DatabaseTarget, path: Path) -> Any:
    env = operator_env(database, "dispatch", CORESPOND_DATA_KEYS=DATA_KEYS)
    return await corespond("addresses", "import", str(path), env=env)


@pytest_asyncio.fixture
async def desk(
    broker: Tansu, database: DatabaseTarget, tmp_path: Path
) -> AsyncIterator[InProcessStack]:
    roster = tmp_path / "roster.json"
    roster.write_text(json.dumps(ROSTER))
    async with InProcessStack(broker.bootstrap, database, tmp_path, roster=roster) as stack:
        points = tmp_path / "denver.csv"
        points.write_text(ADDRESSES)
        imported = await _import(database, points)
        assert imported.code == 0, imported.err
        assert "imported 6 address points" in imported.out
        yield stack


async def _offered(stack: InProcessStack, incident_id: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        view = await incident(stack.dispatch, incident_id)
        return view if view["assignments"] else None

    return await eventually(probe, what="an offer")


async def test_an_address_only_call_is_placed_and_gets_a_real_eta(desk: InProcessStack) -> None:
    incident_id = await submit(desk.dispatch, _call("1437 Bannock Street, Denver, CO 80202"))
    view = await _offered(desk, incident_id)

    geocoded = view["locations"]["geocoded"]
    assert (geocoded["lat"], geocoded["lon"]) == (39.7392, -104.9903)
    assert view["location_used"] == "geocoded"
    assert view["location_source"] == "address_points"
    assert view["location_confidence"] == 1.0
    assert view["locations"]["reported"]["address"].startswith("1437 Bannock Street")
    [offer] = view["assignments"]
    assert offer["eta_seconds"] is not None
    assert [e for e in view["timeline"] if e["kind"] == "location.geocoded"]


async def test_a_misspelt_street_and_a_missing_number_are_placed_less_surely(
    desk: InProcessStack,
) -> None:
    incident_id = await submit(desk.dispatch, _call("1440 Banock Stret"))
    view = await _offered(desk, incident_id)

    assert view["location_source"] == "address_points"
    assert 0.5 < view["location_confidence"] < 1.0
    assert view["locations"]["geocoded"]["method"] == "interpolated"
    assert 39.7385 < view["locations"]["geocoded"]["lat"] < 39.7400
    assert view["assignments"][0]["eta_seconds"] is not None


async def test_an_unknown_address_has_no_point_until_a_dispatcher_pins_it(
    desk: InProcessStack,
) -> None:
    incident_id = await submit(desk.dispatch, _call("77 Nowhere Lane"))
    view = await _offered(desk, incident_id)
    assert view["location_used"] is None
    assert view["location_source"] is None
    assert view["assignments"][0]["eta_seconds"] is None
    [note] = [e["summary"] for e in view["timeline"] if e["kind"] == "location.geocoded"]
    assert "not found" in note

    pinned = await desk.dispatch.put(
        f"/v1/incidents/{incident_id}/pin", json={"lat": 39.7440, "lon": -104.9875}
    )
    assert pinned.status_code == 200, pinned.text
    view = pinned.json()
    assert view["location_used"] == "pin"
    assert view["location_source"] == "pin"
    assert view["location_confidence"] == 1.0


async def test_a_pin_overrides_the_geocoded_point(desk: InProcessStack) -> None:
    incident_id = await submit(desk.dispatch, _call("1437 Bannock St"))
    await _offered(desk, incident_id)
    refused = await desk.dispatch.put(f"/v1/incidents/{incident_id}/pin", json={"lat": 91})
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"

    pinned = await desk.dispatch.put(
        f"/v1/incidents/{incident_id}/pin", json={"lat": 39.7440, "lon": -104.9875}
    )
    view = pinned.json()
    assert view["location_source"] == "pin"
    assert view["locations"]["geocoded"]["source"] == "address_points"  # kept, not overwritten


async def test_a_bad_file_names_file_line_and_field_and_writes_nothing(
    desk: InProcessStack, database: DatabaseTarget, tmp_path: Path
) -> None:
    bad = tmp_path / "more.csv"
    bad.write_text(
        "LON,LAT,NUMBER,STREET\n"
        "-104.98,39.70,100,COLFAX AVE\n"
        "-104.98,not-a-number,102,COLFAX AVE\n"
        "-104.98,39.70,,COLFAX AVE\n"
    )
    ran = await _import(database, bad)
    assert ran.code != 0
    assert f"{bad}: line 3: LAT:" in ran.err
    assert f"{bad}: line 4: NUMBER:" in ran.err
    # Line 2 was fine, and is not written either: Colfax is not known.
    incident_id = await submit(desk.dispatch, _call("100 Colfax Ave"))
    view = await _offered(desk, incident_id)
    assert view["location_source"] is None


@pytest.fixture
def nominatim() -> Iterator[FakeNominatim]:
    fake = FakeNominatim(
        results=[
            {
                "lat": "39.7520",
                "lon": "-104.9990",
                "place_rank": 30,
                "addresstype": "building",
                "display_name": "2000 Larimer Street, Denver",
            }
        ]
    )
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


async def test_the_online_geocoder_is_asked_only_when_configured_and_needed(
    broker: Tansu, database: DatabaseTarget, tmp_path: Path, nominatim: FakeNominatim
) -> None:
    roster = tmp_path / "roster.json"
    roster.write_text(json.dumps(ROSTER))
    overrides = {"dispatch": {"geocoder_url": nominatim.url}}
    async with InProcessStack(
        broker.bootstrap, database, tmp_path, roster=roster, overrides=overrides
    ) as stack:
        incident_id = await submit(stack.dispatch, _call("2000 Larimer St, Denver"))
        view = await _offered(stack, incident_id)
        assert view["location_source"] == "online"
        assert view["location_confidence"] == 0.8
        assert (view["locations"]["geocoded"]["lat"], view["locations"]["geocoded"]["lon"]) == (
            39.7520,
            -104.9990,
        )
        assert nominatim.queries[0]["q"] == ["2000 Larimer St, Denver"]
        assert nominatim.user_agents[0].startswith("corespond")

        # A call with a point is not geocoded at all.
        await submit(stack.dispatch, DEMO_CALL)
        assert len(nominatim.queries) == 1
        # An address the imported points know for certain does not leave the machine.
        points = tmp_path / "denver.csv"
        points.write_text(ADDRESSES)
        assert (await _import(database, points)).code == 0
        known = await submit(stack.dispatch, _call("1437 Bannock St"))
        assert (await incident(stack.dispatch, known))["location_source"] == "address_points"
        assert len(nominatim.queries) == 1


async def test_a_nominatim_answer_is_read_with_a_confidence_by_place_rank(
    nominatim: FakeNominatim,
) -> None:
    geocoder = NominatimGeocoder(nominatim.url)
    nominatim.results = [{"lat": "39.75", "lon": "-105.0", "place_rank": 26, "type": "road"}]
    found = await geocoder.geocode("Larimer St")
    assert found is not None
    assert (found.lat, found.lon, found.source, found.confidence) == (39.75, -105.0, "online", 0.5)
    assert nominatim.queries[0]["format"] == ["jsonv2"]

    nominatim.results = []
    assert await geocoder.geocode("nowhere") is None
    nominatim.results = [{"no": "coordinates"}]
    assert await geocoder.geocode("broken") is None  # a bad answer is no answer, never a crash


async def test_an_unreachable_online_geocoder_is_no_answer(nominatim: FakeNominatim) -> None:
    url = nominatim.url
    nominatim.stop()
    assert await NominatimGeocoder(url, timeout_s=1).geocode("1437 Bannock St") is None
