"""``corespond providers import`` loads the HSDS-like directory into a real dispatch process."""

import json
from pathlib import Path

import httpx

from services.cli.stack import Tansu
from tests.support.cli import corespond
from tests.support.databases import DatabaseTarget
from tests.support.dispatch_process import dispatch_process
from tests.support.inprocess import TOKEN

DEMO = Path(__file__).parents[2] / "deploy" / "demo" / "providers.json"


async def test_the_demo_directory_imports_once_and_a_bad_one_writes_nothing(
    broker: Tansu, sqlite_db: DatabaseTarget, tmp_path: Path
) -> None:
    async with dispatch_process(broker.bootstrap, sqlite_db, tmp_path / "run") as dispatch:
        args = ("--url", dispatch.url, "--token", TOKEN)
        ran = await corespond("providers", "import", str(DEMO), *args)
        assert ran.code == 0, ran.err
        assert "6 added, 0 already listed" in ran.out
        again = await corespond("providers", "import", str(DEMO), *args)
        assert "0 added, 6 already listed" in again.out

        broken = tmp_path / "broken.json"
        good = json.loads(DEMO.read_text())[0]
        broken.write_text(json.dumps([good, {**good, "contact": {"phone": "555-0100"}}]))
        ran = await corespond("providers", "import", str(broken), *args)
        assert ran.code == 1
        assert "entry 2: contact.phone" in ran.err
        assert "nothing imported" in ran.err

        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with httpx.AsyncClient(headers=headers) as client:
            listed = (await client.get(dispatch.url + "/v1/providers")).json()
        assert len(listed) == 6
        assert {p["service_type"] for p in listed} == {
            "mat_induction",
            "detox",
            "crisis_stabilisation",
            "shelter_bed",
            "harm_reduction",
            "family_support",
        }
