"""What the retention purge leaves of an incident: the statistics, not the person."""

from schemas.triage import RationaleItem, TriageDecision
from schemas.vocabulary import Category, Flag, ResponseModel, Role
from services.dispatch.domain.retention import PURGED_NOTE, coarse_area, purged_summary


def test_the_area_is_rounded_from_the_point_used() -> None:
    places = {
        "reported": {"address": "1437 Bannock St", "at": "2025-01-01T00:00:00+00:00"},
        "geocoded": {"lat": 39.739236, "lon": -104.990251},
        "pin": {"lat": 39.741234, "lon": -104.987654, "by": "dispatcher-7"},
    }
    assert coarse_area(places) == {"area": {"lat": 39.74, "lon": -104.99, "precision_deg": 0.01}}
    assert coarse_area({"reported": {"address": "1437 Bannock St"}}) == {}
    # Purging twice keeps the area it already has.
    assert coarse_area(coarse_area(places)) == coarse_area(places)


def test_free_text_and_exact_places_leave_the_timeline() -> None:
    closed = purged_summary(
        "incident.closed",
        "closed: treated on scene — Maria Lopez, call her back on 303-555-0100",
        {"disposition": "treated_on_scene"},
    )
    assert closed == "closed: treated on scene"
    pinned = purged_summary("location.pinned", "dispatcher pinned the location at 39.74123", {})
    assert "39.74" not in pinned
    offered = purged_summary(
        "assignment.offered",
        "STAR-2 offered as clinician, ETA 4 min, answer within 150 s (override: knows Maria)",
        {},
    )
    assert offered == f"STAR-2 offered as clinician, ETA 4 min, answer within 150 s {PURGED_NOTE}"
    declined = purged_summary("assignment.declined", "M4 (emt) declined: Maria is my cousin", {})
    assert declined == f"M4 (emt) declined {PURGED_NOTE}"
    assert purged_summary("something.new", "whatever it says", {}) == f"something.new {PURGED_NOTE}"


def test_templated_timeline_lines_are_kept() -> None:
    for kind, summary in [
        ("call.received", "call received from 911, incident 4821"),
        ("call.triaged", "P2 mental_health: clinician (clinician)"),
        ("notification.sent", "SMS to +1720***0101 sent"),
        ("assignment.offered", "STAR-1 offered as clinician, ETA 3 min, answer within 150 s"),
    ]:
        assert purged_summary(kind, summary, {}) == summary


def test_a_decision_keeps_what_was_decided_and_loses_its_evidence() -> None:
    decision = TriageDecision(
        category=Category.MENTAL_HEALTH,
        priority=2,
        response_model=ResponseModel.CLINICIAN,
        roles=[Role.CLINICIAN],
        flags=[Flag.CHILDREN_PRESENT],
        rationale=[
            RationaleItem(
                rule="behavioural.crisis",
                reason="behavioural-health or substance-use crisis: clinician",
                evidence=["hearing voices", "answers.weapons=false"],
            )
        ],
        policy_version="default-1",
    )
    purged = decision.without_evidence()
    assert purged.rationale[0].evidence == []
    assert purged.rationale[0].rule == "behavioural.crisis"
    assert purged.model_dump(exclude={"rationale"}) == decision.model_dump(exclude={"rationale"})
