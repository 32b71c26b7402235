"""The incident list a busy shift works from: nature, address and unfilled roles on each row,
and a search by code, part of the address or the caller's phone (matched after decryption).

Real broker and SQLite; no units, so the call's roles are unfilled.
"""

from pathlib import Path

from services.cli.stack import Tansu
from tests.support.databases import DatabaseTarget
from tests.support.flow import incident, submit
from tests.support.inprocess import DEMO_CALL, InProcessStack
from tests.support.waiting import eventually


async def test_rows_carry_nature_address_unfilled_roles_and_search_finds_them(
    broker: Tansu, sqlite_db: DatabaseTarget, tmp_path: Path
) -> None:
    async with InProcessStack(broker.bootstrap, sqlite_db, tmp_path) as stack:
        mine = await submit(stack.dispatch, DEMO_CALL)  # 1437 Bannock St, +13035550100
        other = await submit(
            stack.dispatch,
            {**DEMO_CALL, "location": {"address": "9 Elm Ct"}, "caller": {"phone": "+17205550111"}},
        )

        async def planned() -> dict[str, object] | None:
            view = await incident(stack.dispatch, mine)
            return view if view["status"] == "unassigned" else None

        await eventually(planned, what="the call planned with nobody to send")
        code = (await incident(stack.dispatch, mine))["code"]
        rows = {r["id"]: r for r in (await stack.dispatch.get("/v1/incidents")).json()}
        row = rows[mine]
        assert row["address"] == "1437 Bannock St"
        assert row["category"] == (await incident(stack.dispatch, mine))["triage"]["category"]
        assert row["unfilled_roles"]  # nobody on the roster at all

        for search in (code, f"#{code}", "bannock", "555-0100", "3035550100"):
            found = (await stack.dispatch.get("/v1/incidents", params={"q": search})).json()
            assert [r["id"] for r in found] == [mine], search
        found = (await stack.dispatch.get("/v1/incidents", params={"q": "elm ct"})).json()
        assert [r["id"] for r in found] == [other]
