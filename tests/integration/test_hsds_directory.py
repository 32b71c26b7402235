"""The provider directory in Open Referral HSDS 3.0 against a real dispatch process:
``corespond providers import`` takes an HSDS document (and still today's file), refuses a
bad one naming the file and the HSDS path and writing nothing, and ``GET
/v1/hsds/services`` exports a directory valid against corespond's HSDS 3.0 JSON Schema."""

import json
from pathlib import Path

import httpx
import jsonschema_rs

from services.cli.stack import Tansu
from tests.support.cli import corespond
from tests.support.databases import DatabaseTarget
from tests.support.dispatch_process import dispatch_process
from tests.support.inprocess import TOKEN

ROOT = Path(__file__).parents[2]
DOCUMENT = ROOT / "tests" / "fixtures" / "hsds" / "denver-directory.json"
DEMO = ROOT / "deploy" / "demo" / "providers.json"
SCHEMA = json.loads((ROOT / "schemas" / "hsds" / "hsds-3.0-service-page.schema.json").read_text())


async def test_an_hsds_document_imports_exports_valid_hsds_and_a_bad_one_writes_nothing(
    broker: Tansu, sqlite_db: DatabaseTarget, tmp_path: Path
) -> None:
    async with dispatch_process(broker.bootstrap, sqlite_db, tmp_path / "run") as dispatch:
        args = ("--url", dispatch.url, "--token", TOKEN)
        headers = {"Authorization": f"Bearer {TOKEN}"}

        broken = tmp_path / "broken-hsds.json"
        document = json.loads(DOCUMENT.read_text())
        document["contents"][1]["x-corespond"]["on_call"]["phone"] = "555-0100"
        del document["contents"][0]["service_at_locations"][0]["location"]["location_type"]
        broken.write_text(json.dumps(document))
        ran = await corespond("providers", "import", str(broken), *args)
        assert ran.code == 1
        assert (
            f"{broken}: HSDS contents[0].service_at_locations[0].location.location_type" in ran.err
        )
        assert "nothing imported" in ran.err
        # Its own rules pass, corespond's do not: still named by HSDS path.
        document = json.loads(DOCUMENT.read_text())
        document["contents"][1]["x-corespond"]["on_call"]["phone"] = "555-0100"
        broken.write_text(json.dumps(document))
        ran = await corespond("providers", "import", str(broken), *args)
        assert ran.code == 1
        assert f"{broken}: HSDS contents[1].x-corespond.on_call.phone" in ran.err

        async with httpx.AsyncClient(headers=headers, base_url=dispatch.url) as client:
            assert (await client.get("/v1/providers")).json() == []

            ran = await corespond("providers", "import", str(DOCUMENT), *args)
            assert ran.code == 0, ran.err
            assert "2 added, 0 already listed" in ran.out
            ran = await corespond("providers", "import", str(DEMO), *args)  # today's format
            assert "6 added, 0 already listed" in ran.out

            listed = {p["organization"]: p for p in (await client.get("/v1/providers")).json()}
            colfax = listed["Colfax Recovery Clinic"]
            assert colfax["service_type"] == "mat_induction"
            assert colfax["capacity"] == 3
            assert colfax["address"] == "1600 E Colfax Ave, Denver, CO 80218, US"

            exported = await client.get("/v1/hsds/services")
            assert exported.status_code == 200, exported.text
        page = exported.json()
        validator = jsonschema_rs.validator_for(SCHEMA, validate_formats=True)
        assert [e.message for e in validator.iter_errors(page)] == []
        assert page["total_items"] == 8
        by_name = {s["organization"]["name"]: s for s in page["contents"]}
        service = by_name["Colfax Recovery Clinic"]
        assert service["x-corespond"]["service_type"] == "mat_induction"
        assert service["phones"][0]["number"] == "+1 303 555 0190"
        address = service["service_at_locations"][0]["location"]["addresses"][0]
        assert (address["city"], address["postal_code"]) == ("Denver", "80218")
        assert "+1720555" not in exported.text  # on-call numbers stay in corespond
