"""Retention: incidents closed longer ago than the setting lose the person and keep the statistics.

The clock dispatch and triage read is moved by hand past the retention period;
``corespond incidents purge`` is run as an operator would.
"""

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from schemas.triage import TriageDecision
from services.cli.stack import Tansu
from services.common.outbox import OutboxRecord
from services.triage.adapters.models import DecisionRecord
from tests.support.cli import corespond, operator_env
from tests.support.clock import ManualClock
from tests.support.databases import DatabaseTarget
from tests.support.flow import incident, submit, until_texted
from tests.support.inprocess import DATA_KEYS, DEMO_CALL, InProcessStack
from tests.support.waiting import eventually

RETENTION_DAYS = 400
NAME = "Dolores Whitfield"
CALLER = {"phone": "+13035550166", "relationship": "mother"}
NON_URGENT = {
    **DEMO_CALL,
    "narrative": f"{NAME} asking where to get detox for her son, son home and safe",
    "caller": CALLER,
}
PIN = {"lat": 39.741234, "lon": -104.987654}


class Recorded(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def _until(stack: InProcessStack, incident_id: str, status: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        view = await incident(stack.dispatch, incident_id)
        return view if view["status"] == status else None

    return await eventually(probe, what=f"incident {status}")


async def _handled_overridden_pinned_and_closed(stack: InProcessStack) -> str:
    """A call sent to another unit than advised, pinned, closed with a note naming the caller."""
    incident_id = await submit(stack.dispatch, NON_URGENT)
    view = await _until(stack, incident_id, "awaiting_dispatch")
    other = view["recommendation"][0]["alternatives"][0]["unit_id"]
    order = {
        "units": [{"role": "clinician", "unit_id": other}],
        "override_reason": f"knows {NAME} from before",
    }
    sent = await stack.dispatch.post(f"/v1/incidents/{incident_id}/dispatch", json=order)
    assert sent.status_code == 200, sent.text
    pinned = await stack.dispatch.put(f"/v1/incidents/{incident_id}/pin", json=PIN)
    assert pinned.status_code == 200, pinned.text
    closed = await stack.dispatch.post(
        f"/v1/incidents/{incident_id}/close",
        json={"disposition": "referred", "note": f"{NAME} called back on +13035550166"},
    )
    assert closed.status_code == 200, closed.text
    return incident_id


async def _decisions(stack: InProcessStack) -> dict[str, DecisionRecord]:
    async with stack.runtime("triage").db.session() as session:
        return {d.incident_id: d for d in await session.scalars(select(DecisionRecord))}


async def _outbox_keys(stack: InProcessStack, service: str) -> set[str]:
    async with stack.runtime(service).db.session() as session:
        return set(await session.scalars(select(OutboxRecord.key)))


async def test_closed_incidents_past_retention_keep_only_their_statistics(
    broker: Tansu, database: DatabaseTarget, roster: Path, tmp_path: Path
) -> None:
    clock = ManualClock()
    stack = InProcessStack(
        broker.bootstrap,
        database,
        tmp_path,
        roster=roster,
        dispatch_clock=clock,
        triage_clock=clock,
        # Offer deadlines must not fire when the clock jumps a year.
        overrides={"dispatch": {"timer_poll_interval_s": 3600}},
    )
    recorded = Recorded()
    logging.getLogger("services.dispatch.app.retention").addHandler(recorded)
    async with stack:
        old = await _handled_overridden_pinned_and_closed(stack)
        still_open = await submit(stack.dispatch)
        await until_texted(stack.dispatch, still_open)
        before = await incident(stack.dispatch, old)

        clock.advance(timedelta(days=RETENTION_DAYS + 1).total_seconds())
        recent = await submit(stack.dispatch, {**DEMO_CALL, "caller": CALLER})
        await until_texted(stack.dispatch, recent)
        closed = await stack.dispatch.post(
            f"/v1/incidents/{recent}/close", json={"disposition": "treated_on_scene"}
        )
        assert closed.status_code == 200

        purged = await stack.apps["dispatch"].state.purge_expired()
        decided = await stack.apps["triage"].state.purge_expired()
        assert (purged.incidents, purged.assignments) == (1, 1)
        assert purged.timeline_entries >= 2  # the pin and the closing note at least
        assert purged.outbox_events > 0
        # triage goes by the decision's age: the incident still open was decided then too.
        assert decided.decisions == 2

        view = await incident(stack.dispatch, old)
        # The person: gone, and marked as purged rather than empty.
        assert view["purged_at"] is not None
        assert view["narrative"] is None
        assert view["caller"] is None
        assert view["answers"] is None
        assert view["location"] is None
        assert view["locations"] == {"area": {"lat": 39.74, "lon": -104.99, "precision_deg": 0.01}}
        assert view["location_used"] is None
        assert all(item["evidence"] == [] for item in view["triage"]["rationale"])
        [assignment] = view["assignments"]
        assert assignment["override_reason"] == "(purged)"
        text = str(view)
        for gone in (NAME, "3035550166", "39.741234", "1437 Bannock"):
            assert gone not in text
        # The statistics: as they were.
        for kept in ("received_at", "closed_at", "source", "jurisdiction", "disposition", "code"):
            assert view[kept] == before[kept]
        for kept in ("priority", "response_model", "roles", "flags", "category", "policy_version"):
            assert view["triage"][kept] == before["triage"][kept]
        assert [r["rule"] for r in view["triage"]["rationale"]] == [
            r["rule"] for r in before["triage"]["rationale"]
        ]
        assert [
            (a["call_sign"], a["role"], a["status"], a["offered_at"]) for a in [assignment]
        ] == [
            (a["call_sign"], a["role"], a["status"], a["offered_at"]) for a in before["assignments"]
        ]
        assert [e["kind"] for e in view["timeline"]] == [e["kind"] for e in before["timeline"]]

        for kept_whole in (still_open, recent):
            whole = await incident(stack.dispatch, kept_whole)
            assert whole["purged_at"] is None
            assert whole["narrative"] == DEMO_CALL["narrative"]
            assert whole["caller"]["phone"]

        decisions = await _decisions(stack)
        assert decisions[old].purged_at is not None
        stored = TriageDecision.model_validate(decisions[old].decision)
        assert all(not item.evidence for item in stored.rationale)
        assert decisions[recent].purged_at is None
        assert TriageDecision.model_validate(decisions[recent].decision).rationale[0].evidence
        assert old not in await _outbox_keys(stack, "dispatch")
        assert old not in await _outbox_keys(stack, "triage")
        assert recent in await _outbox_keys(stack, "dispatch")

        again = await stack.apps["dispatch"].state.purge_expired()
        assert (again.incidents, again.outbox_events) == (0, 0)
    logging.getLogger("services.dispatch.app.retention").removeHandler(recorded)
    # Counts only: no id, no name, nothing from the incident in the log.
    [first, *_] = [r for r in recorded.records if r.getMessage() == "retention.purged"]
    fields = {k for k in vars(first) if k in {"incidents", "timeline_entries", "outbox_events"}}
    assert fields == {"incidents", "timeline_entries", "outbox_events"}
    assert NAME not in str(vars(first))
    assert old not in str(vars(first))


async def test_the_purge_command_counts_first_then_purges(
    broker: Tansu, sqlite_db: DatabaseTarget, roster: Path, tmp_path: Path
) -> None:
    # Calls taken a year and a half ago, purged by the command at today's date.
    clock = ManualClock(datetime.now(UTC) - timedelta(days=RETENTION_DAYS + 100))
    stack = InProcessStack(
        broker.bootstrap,
        sqlite_db,
        tmp_path,
        roster=roster,
        dispatch_clock=clock,
        triage_clock=clock,
        overrides={"dispatch": {"timer_poll_interval_s": 3600}},
    )
    async with stack:
        old = await _handled_overridden_pinned_and_closed(stack)
        env = operator_env(sqlite_db, "dispatch", CORESPOND_DATA_KEYS=DATA_KEYS)
        del env["DATABASE_URL"]  # --service all: each service's file in the data folder
        purge = ("incidents", "purge", "--data-dir", str(tmp_path))

        dry = await corespond(*purge, "--dry-run", env=env)
        assert dry.code == 0, dry.err
        assert "dispatch: 1 incidents closed before" in dry.out
        assert "would be purged" in dry.out
        assert "triage: 1 decisions" in dry.out
        assert (await incident(stack.dispatch, old))["narrative"] == NON_URGENT["narrative"]

        ran = await corespond(*purge, env=env)
        assert ran.code == 0, ran.err
        assert "dispatch: 1 incidents closed before" in ran.out
        assert "would be" not in ran.out
        view = await incident(stack.dispatch, old)
        assert view["purged_at"] is not None
        assert view["narrative"] is None

        again = await corespond(*purge, env=env)
        assert "dispatch: 0 incidents" in again.out
