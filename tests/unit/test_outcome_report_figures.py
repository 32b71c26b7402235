"""A month of incidents with known outcomes: every figure of the outcome report, exactly.

Four ISO weeks (2026-W45 to W48); clinicians, co-responders, firehouse EMTs and
police; handoffs, naloxone, follow-ups, repeat callers and exposures chosen so
that some cells are shown, some are small and suppressed, and some rates are
suppressed only because their complement is small.
"""

from datetime import UTC, datetime, timedelta

from services.dispatch.domain.outcomes import (
    CallerRow,
    Figure,
    FollowUpRow,
    HandoffRow,
    IncidentRow,
    outcome_figures,
)

SINCE = datetime(2026, 11, 2, tzinfo=UTC)  # Monday of 2026-W45
UNTIL = datetime(2026, 11, 30, tzinfo=UTC)  # Monday of 2026-W49
NOW = datetime(2026, 12, 5, tzinfo=UTC)
MIN = timedelta(minutes=1)


def _week(n: int, hour: int) -> datetime:
    """An instant in the ``n``-th week of the month (0 = W45), on its Tuesday."""
    return SINCE + timedelta(days=7 * n + 1, hours=hour)


def month() -> list[IncidentRow]:
    rows: list[IncidentRow] = []
    # W45, clinician alone: 10 mental-health calls, on scene after 1..10 minutes.
    for i in range(10):
        at = _week(0, i)
        rows.append(
            IncidentRow(
                f"c45-{i}",
                at,
                "default",
                "clinician",
                "mental_health",
                "911",
                disposition="deflected_to_treatment",
                closed_at=at + timedelta(hours=1),
                first_on_scene_at=at + (i + 1) * MIN,
            )
        )
    # W46, clinician: 6 calls, police went to 3 of them.
    for i in range(6):
        at = _week(1, i)
        rows.append(
            IncidentRow(
                f"c46-{i}", at, "default", "clinician", "welfare", "988", police_responded=i < 3
            )
        )
    # W48, clinician: 2 calls.
    for i in range(2):
        rows.append(
            IncidentRow(f"c48-{i}", _week(3, i), "default", "clinician", "substance_use", "911")
        )
    # W45, co-responder: 5 suicide-risk calls, police on every one.
    for i in range(5):
        rows.append(
            IncidentRow(
                f"r45-{i}",
                _week(0, 12 + i),
                "default",
                "co_responder",
                "suicide_risk",
                "911",
                police_responded=True,
            )
        )
    # W46, firehouse: 8 overdoses, each with a handoff requested 10 minutes in.
    doses = [2, 1, 1, 3, 2, 1, None, None]
    for i in range(8):
        at = _week(1, 10 + i)
        asked = at + 10 * MIN
        accepted = (
            asked + 20 * MIN if i < 6 else asked + 45 * MIN if i == 6 else None
        )  # six within 30 minutes, one late, one never
        closed = at + timedelta(hours=2)
        visit = {
            # five done within 72 h, one late, one not reached, one never opened
            0: FollowUpRow(closed + timedelta(hours=24), "engaged"),
            1: FollowUpRow(closed + timedelta(hours=30), "engaged"),
            2: FollowUpRow(closed + timedelta(hours=48), "reached_declined"),
            3: FollowUpRow(closed + timedelta(hours=70), "not_needed"),
            4: FollowUpRow(closed + timedelta(hours=71), "engaged"),
            5: FollowUpRow(closed + timedelta(hours=80), "engaged"),
            6: FollowUpRow(closed + timedelta(hours=24), "not_reached"),
        }.get(i)
        rows.append(
            IncidentRow(
                f"f46-{i}",
                at,
                "default",
                "firehouse",
                "overdose",
                "911",
                disposition="treated_on_scene",
                closed_at=closed,
                handoffs=(HandoffRow(asked, accepted),),
                naloxone_doses=doses[i],
                fatal_overdose=i == 3,
                transported=i < 4,
                follow_up_scheduled=True,
                follow_up=visit,
            )
        )
    # W47, police: 7 violence calls (not behavioural), 5 arrests.
    for i in range(7):
        rows.append(
            IncidentRow(
                f"p47-{i}",
                _week(2, i),
                "default",
                "police",
                "violence",
                "911",
                disposition="arrest" if i < 5 else "no_contact",
                police_responded=True,
                arrest=i < 5,
            )
        )
    # Follow-up visits are work, not calls; one before the month is out of it.
    rows.append(IncidentRow("v-1", _week(1, 20), "default", "clinician", "welfare", "follow_up"))
    rows.append(IncidentRow("old", SINCE - MIN, "default", "clinician", "welfare", "911"))
    return rows


def callers() -> list[CallerRow]:
    day = timedelta(days=1)
    found = [
        CallerRow("a", SINCE - 13 * day),  # a: again 14 days later, inside the month
        CallerRow("a", SINCE + day),
        CallerRow("b", SINCE - 74 * day),  # b: again after 76 days (90-day window only)
        CallerRow("b", SINCE + 2 * day),
        CallerRow("c", SINCE + 3 * day),  # c: three calls, two repeats
        CallerRow("c", SINCE + 6 * day),
        CallerRow("c", SINCE + 9 * day),
        CallerRow("h", SINCE + 4 * day),  # h: once
        CallerRow("z", UNTIL + day),  # after the month: not counted
        CallerRow("z", UNTIL + 2 * day),
    ]
    for name in "defg":  # four more callers, twice each, three days apart
        found += [CallerRow(name, SINCE + 10 * day), CallerRow(name, SINCE + 13 * day)]
    return found


EXPOSURES = [["violent"]] * 6 + [["fatal_overdose", "violent"]]

S = None  # a suppressed cell

EXPECTED: dict[tuple[str, str, str, str], float | int | None] = {
    ("calls", "all", "all", "incidents"): 38,
    # deflection: (program, week)
    ("deflection", "all", "2026-W45", "behavioural_calls"): 15,
    ("deflection", "all", "2026-W45", "answered_without_police"): 10,
    ("deflection", "all", "2026-W45", "deflection_rate"): 0.6667,
    ("deflection", "all", "2026-W46", "behavioural_calls"): 14,
    ("deflection", "all", "2026-W46", "answered_without_police"): 11,
    ("deflection", "all", "2026-W46", "deflection_rate"): S,  # 3 with police
    ("deflection", "all", "2026-W48", "behavioural_calls"): S,
    ("deflection", "all", "2026-W48", "answered_without_police"): S,
    ("deflection", "all", "2026-W48", "deflection_rate"): S,
    ("deflection", "all", "all", "behavioural_calls"): 31,
    ("deflection", "all", "all", "answered_without_police"): 23,
    ("deflection", "all", "all", "deflection_rate"): 0.7419,  # 23 / 31
    ("deflection", "clinician", "2026-W45", "behavioural_calls"): 10,
    ("deflection", "clinician", "2026-W45", "answered_without_police"): 10,
    ("deflection", "clinician", "2026-W45", "deflection_rate"): 1.0,
    ("deflection", "clinician", "2026-W46", "behavioural_calls"): 6,
    ("deflection", "clinician", "2026-W46", "answered_without_police"): S,
    ("deflection", "clinician", "2026-W46", "deflection_rate"): S,
    ("deflection", "clinician", "2026-W48", "behavioural_calls"): S,
    ("deflection", "clinician", "2026-W48", "answered_without_police"): S,
    ("deflection", "clinician", "2026-W48", "deflection_rate"): S,
    ("deflection", "clinician", "all", "behavioural_calls"): 18,
    ("deflection", "clinician", "all", "answered_without_police"): 15,
    ("deflection", "clinician", "all", "deflection_rate"): S,  # its complement is 3
    ("deflection", "co_responder", "2026-W45", "behavioural_calls"): 5,
    ("deflection", "co_responder", "2026-W45", "answered_without_police"): 0,
    ("deflection", "co_responder", "2026-W45", "deflection_rate"): 0.0,
    ("deflection", "co_responder", "all", "behavioural_calls"): 5,
    ("deflection", "co_responder", "all", "answered_without_police"): 0,
    ("deflection", "co_responder", "all", "deflection_rate"): 0.0,
    ("deflection", "firehouse", "2026-W46", "behavioural_calls"): 8,
    ("deflection", "firehouse", "2026-W46", "answered_without_police"): 8,
    ("deflection", "firehouse", "2026-W46", "deflection_rate"): 1.0,
    ("deflection", "firehouse", "all", "behavioural_calls"): 8,
    ("deflection", "firehouse", "all", "answered_without_police"): 8,
    ("deflection", "firehouse", "all", "deflection_rate"): 1.0,
    # speed: on scene after 1..10 minutes; handoffs accepted 30 min (x6) and 55 min in
    ("speed", "all", "all", "call_to_on_scene_n"): 10,
    ("speed", "all", "all", "call_to_on_scene_median_s"): 330.0,
    ("speed", "all", "all", "call_to_on_scene_p90_s"): 540.0,
    ("speed", "all", "all", "call_to_handoff_accepted_n"): 7,
    ("speed", "all", "all", "call_to_handoff_accepted_median_s"): 1800.0,
    ("speed", "all", "all", "call_to_handoff_accepted_p90_s"): 3300.0,
    ("handoffs", "all", "all", "requested"): 8,
    ("handoffs", "all", "all", "accepted_within_30m"): 6,
    ("handoffs", "all", "all", "accepted_within_30m_rate"): S,  # 2 were not
    ("naloxone", "all", "all", "incidents"): 6,
    ("naloxone", "all", "all", "doses"): 10,
    ("naloxone", "all", "all", "reversals"): 5,
    ("outcomes", "all", "all", "transported"): S,
    ("outcomes", "all", "all", "arrests"): 5,
    ("dispositions", "all", "all", "arrest"): 5,
    ("dispositions", "all", "all", "deflected_to_treatment"): 10,
    ("dispositions", "all", "all", "no_contact"): S,
    ("dispositions", "all", "all", "treated_on_scene"): 8,
    # The same closes by the APCO code a CAD is sent (none chosen here: all mapped).
    ("apco_dispositions", "all", "all", "ARREST"): 5,
    ("apco_dispositions", "all", "all", "REFERRED"): 10,
    ("apco_dispositions", "all", "all", "UNABLE_TO_LOCATE"): S,
    ("apco_dispositions", "all", "all", "ASSISTANCE_RENDERED"): 8,
    ("follow_ups", "all", "all", "due"): 8,
    ("follow_ups", "all", "all", "done_within_72h"): 5,
    ("follow_ups", "all", "all", "missed"): S,
    ("follow_ups", "all", "all", "pending"): 0,
    ("repeat_calls", "all", "all", "repeat_calls_30d"): 7,
    ("repeat_calls", "all", "all", "repeat_callers_30d"): 6,
    ("repeat_calls", "all", "all", "repeat_calls_90d"): 8,
    ("repeat_calls", "all", "all", "repeat_callers_90d"): 7,
    ("exposures", "all", "all", "exposures"): 7,
    ("exposures", "all", "all", "fatal_overdose"): S,
    ("exposures", "all", "all", "child_involved"): 0,
    ("exposures", "all", "all", "violent"): 7,
}
# Cells shown as null because they are small (not because there is nothing to show).
SUPPRESSED = {key for key, value in EXPECTED.items() if value is None}


def _figures() -> list[Figure]:
    return outcome_figures(month(), callers(), EXPOSURES, since=SINCE, until=UNTIL, now=NOW)


def test_every_figure_of_a_known_month_is_exact() -> None:
    found = {(f.section, f.program, f.week, f.name): f.value for f in _figures()}
    assert found == EXPECTED


def test_small_cells_are_marked_suppressed_and_nothing_else_is() -> None:
    marked = {(f.section, f.program, f.week, f.name) for f in _figures() if f.suppressed}
    assert marked == SUPPRESSED


def test_a_period_without_calls_shows_zeros_and_no_rates() -> None:
    empty = outcome_figures([], [], [], since=SINCE, until=UNTIL, now=NOW)
    by_name = {(f.section, f.name): f for f in empty}
    assert by_name[("calls", "incidents")].value == 0
    rate = by_name[("deflection", "deflection_rate")]
    assert rate.value is None
    assert not rate.suppressed
    median = by_name[("speed", "call_to_on_scene_median_s")]
    assert median.value is None
    assert not median.suppressed


def test_a_follow_up_still_within_72_hours_is_pending() -> None:
    closed = UNTIL - timedelta(hours=10)
    row = IncidentRow(
        "x",
        closed - timedelta(hours=1),
        "default",
        "firehouse",
        "overdose",
        "911",
        closed_at=closed,
        follow_up_scheduled=True,
    )
    rows = [row] * 5  # five alike, so the cell is shown
    figures = outcome_figures(rows, [], [], since=SINCE, until=UNTIL, now=UNTIL)
    by_name = {(f.section, f.name): f.value for f in figures}
    assert by_name[("follow_ups", "pending")] == 5
    assert by_name[("follow_ups", "missed")] == 0


def test_a_chosen_apco_code_counts_instead_of_the_mapped_one_and_small_cells_hide() -> None:
    def closed(n: int, code: str | None) -> IncidentRow:
        return IncidentRow(
            f"a-{code}-{n}",
            _week(0, n),
            "default",
            "clinician",
            "mental_health",
            "cad",
            disposition="warm_handoff_completed",  # maps to REFERRED
            closed_at=_week(0, n) + MIN,
            apco_disposition=code,
        )

    rows = [closed(i, "TRANSPORTED") for i in range(6)] + [closed(i, None) for i in range(2)]
    figures = outcome_figures(rows, [], [], since=SINCE, until=UNTIL, now=NOW)
    by_name = {(f.section, f.name): f for f in figures}
    assert by_name[("apco_dispositions", "TRANSPORTED")].value == 6
    referred = by_name[("apco_dispositions", "REFERRED")]
    assert referred.value is None
    assert referred.suppressed  # two closes: too few to show
    assert by_name[("dispositions", "warm_handoff_completed")].value == 8
