"""Units: created, edited, imported, reporting status and location; bad data refused by field.

The import runs the real ``corespond units import`` against a real dispatch
process; the API checks run in process over a real broker and SQLite.
"""

import json
from pathlib import Path

import httpx

from services.cli.stack import Tansu
from tests.support.cli import corespond
from tests.support.databases import DatabaseTarget
from tests.support.dispatch_process import dispatch_process
from tests.support.inprocess import TOKEN, InProcessStack

UNIT = {
    "call_sign": "CR-99",
    "agency": "Co-Responder",
    "roles": ["police", "clinician"],
    "capabilities": ["cit_trained", "telehealth_tablet"],
    "languages": ["en", "es"],
    "phone": "+17205550199",
    "lat": 39.74,
    "lon": -104.99,
}


async def test_a_unit_is_created_edited_and_bad_data_is_refused_by_field(
    sqlite_stack: InProcessStack,
) -> None:
    api = sqlite_stack.dispatch
    created = await api.post("/v1/units", json=UNIT)
    assert created.status_code == 201, created.text
    unit = created.json()
    assert unit["roles"] == ["clinician", "police"]
    assert unit["location_source"] == "manual"

    again = await api.post("/v1/units", json=UNIT)
    assert again.status_code == 409
    assert "call_sign" in again.json()["detail"]

    for field, value in (
        ("phone", "720-555-0199"),
        ("roles", ["firefighter"]),
        ("capabilities", ["jetpack"]),
        ("lat", 123.0),
    ):
        bad = await api.post("/v1/units", json={**UNIT, "call_sign": "X-1", field: value})
        assert bad.status_code == 422, field
        assert field in bad.text

    edited = await api.patch(f"/v1/units/{unit['id']}", json={"capabilities": ["naloxone"]})
    assert edited.status_code == 200
    assert edited.json()["capabilities"] == ["naloxone"]
    assert (await api.patch(f"/v1/units/{unit['id']}", json={"status": "x"})).status_code == 422


async def test_device_and_manual_locations_are_kept_apart_and_the_newest_is_used(
    sqlite_stack: InProcessStack,
) -> None:
    api = sqlite_stack.dispatch
    unit = (await api.post("/v1/units", json={**UNIT, "call_sign": "CR-98"})).json()
    ping = await api.post(
        f"/v1/units/{unit['id']}/location",
        json={"lat": 39.75, "lon": -104.98, "source": "device", "at": "2099-01-01T00:00:00Z"},
    )
    assert ping.status_code == 200
    view = ping.json()
    assert view["location_source"] == "device"
    assert (view["lat"], view["lon"]) == (39.75, -104.98)
    assert view["locations"]["manual"]["lat"] == 39.74  # not overwritten
    stale = await api.post(
        f"/v1/units/{unit['id']}/location",
        json={"lat": 1.0, "lon": 1.0, "source": "manual", "at": "2000-01-01T00:00:00Z"},
    )
    assert stale.json()["location_source"] == "device"  # an older fix does not win

    off = await api.post(f"/v1/units/{unit['id']}/status", json={"status": "off_duty"})
    assert off.json()["status"] == "off_duty"
    bad = await api.post(f"/v1/units/{unit['id']}/status", json={"status": "napping"})
    assert bad.status_code == 422
    assert "status" in bad.text


async def test_roster_import_creates_then_updates_and_a_bad_file_writes_nothing(
    broker: Tansu, sqlite_db: DatabaseTarget, tmp_path: Path
) -> None:
    async with dispatch_process(broker.bootstrap, sqlite_db, tmp_path / "run") as dispatch:
        url, token = ("--url", dispatch.url), ("--token", TOKEN)

        roster = tmp_path / "roster.csv"
        roster.write_text(
            "call_sign,agency,roles,capabilities,languages,phone,lat,lon\n"
            "STAR-7,STAR,clinician,naloxone;peer_recovery_coach,en;es,+17205550107,39.74,-104.98\n"
            "1A30,DPD,police,cit_trained,en,+17205550130,,\n"
        )
        ran = await corespond("units", "import", str(roster), *url, *token)
        assert ran.code == 0, ran.err
        assert "2 created, 0 updated" in ran.out

        roster.write_text(roster.read_text().replace("DPD", "Denver PD"))
        ran = await corespond("units", "import", str(roster), *url, *token)
        assert "0 created, 2 updated" in ran.out

        broken = tmp_path / "broken.json"
        broken.write_text(
            json.dumps(
                [
                    {**UNIT, "call_sign": "NEW-1"},
                    {**UNIT, "call_sign": "NEW-2", "phone": "555"},
                    {**UNIT, "call_sign": "NEW-1"},
                ]
            )
        )
        ran = await corespond("units", "import", str(broken), *url, *token)
        assert ran.code == 1
        assert "row 2: phone" in ran.err
        assert "row 3: call_sign: 'NEW-1' repeats row 1" in ran.err
        assert "nothing imported" in ran.err

        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}) as client:
            units = (await client.get(dispatch.url + "/v1/units")).json()
        assert sorted(u["call_sign"] for u in units) == ["1A30", "STAR-7"]
        assert {u["agency"] for u in units} == {"STAR", "Denver PD"}
        star = next(u for u in units if u["call_sign"] == "STAR-7")
        assert star["languages"] == ["en", "es"]
