"""What a caller said and their number are sealed in every database, and whole through the API."""

import asyncio

from tests.support.flow import submit, until_texted
from tests.support.inprocess import DEMO_CALL, InProcessStack
from tests.support.raw_rows import raw_text, sqlite_files

CALLER_PHONE = "+13035550188"
NAME = "Dolores Whitfield"
NARRATIVE = f"{NAME} says her son is hearing voices and pacing, no weapons, he hasn't hurt anyone"
CALL = {**DEMO_CALL, "narrative": NARRATIVE, "caller": {"phone": CALLER_PHONE}}
NOTE = f"spoke with {NAME} again on {CALLER_PHONE}"
# What must never be readable from storage: the words, the name, the number in any form.
SECRETS = ("hearing voices", "Whitfield", "3035550188", "303-555-0188")


async def test_the_databases_hold_neither_narrative_nor_phone_the_api_returns(
    stack: InProcessStack,
) -> None:
    incident_id = await submit(stack.dispatch, CALL)
    view = await until_texted(stack.dispatch, incident_id)
    closed = await stack.dispatch.post(
        f"/v1/incidents/{incident_id}/close", json={"disposition": "referred", "note": NOTE}
    )
    assert closed.status_code == 200, closed.text

    view = closed.json()
    assert view["narrative"] == NARRATIVE
    assert view["caller"]["phone"] == CALLER_PHONE
    assert view["location"]["address"] == "1437 Bannock St"
    evidence = [e for item in view["triage"]["rationale"] for e in item["evidence"]]
    assert any("voices" in e for e in evidence)  # triage quotes the caller, so it is sealed too
    assert any(NOTE in entry["summary"] for entry in view["timeline"])

    for service in ("dispatch", "triage", "notify"):
        stored = await raw_text(stack.database, service)
        for secret in SECRETS:
            assert secret not in stored, f"{secret!r} readable in {service}'s database"
    dispatch_rows = await raw_text(stack.database, "dispatch")
    assert "enc1:" in dispatch_rows  # sealed, not dropped
    assert incident_id in dispatch_rows  # ids and statuses stay queryable

    if stack.database.kind == "sqlite":
        for service in ("dispatch", "triage", "notify"):
            for path in sqlite_files(stack.database, service):
                data = await asyncio.to_thread(path.read_bytes)
                for secret in SECRETS:
                    assert secret.encode() not in data, f"{secret!r} on disk in {path.name}"
