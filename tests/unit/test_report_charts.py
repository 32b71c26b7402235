"""The reports page's charts: SVG drawn from the report's figures, suppressed cells not as 0."""

import xml.etree.ElementTree as ET

import pytest

from services.dispatch.domain.charts import SVG_NS, ChartName, chart_figures, render
from tests.unit.test_outcome_report_figures import _figures

NS = {"svg": SVG_NS}


def _texts(xml: bytes) -> list[str]:
    root = ET.fromstring(xml)  # noqa: S314 - SVG this test had drawn
    return [t.text or "" for t in root.iter(f"{{{SVG_NS}}}text")]


def test_deflection_by_program_draws_a_bar_per_program_and_marks_the_suppressed() -> None:
    texts = _texts(render(_figures(), "deflection-by-program"))
    assert texts[1:] == [
        "clinician",
        "suppressed",
        "co responder",
        "0%",
        "firehouse",
        "100%",
    ]


def test_the_trend_has_one_point_per_week() -> None:
    texts = _texts(render(_figures(), "deflection-trend"))
    assert [t for t in texts if t.startswith("2026-W")] == ["2026-W45", "2026-W46", "2026-W48"]
    assert "67%" in texts
    assert texts.count("suppressed") == 2


def test_the_funnel_runs_from_calls_to_follow_ups() -> None:
    figures = chart_figures(_figures(), "funnel")
    assert [(f.name, f.value) for f in figures] == [
        ("incidents", 38),
        ("call_to_on_scene_n", 10),
        ("call_to_handoff_accepted_n", 7),
        ("done_within_72h", 5),
    ]
    texts = _texts(render(_figures(), "funnel"))
    assert texts[1:] == [
        "calls", "38", "on scene", "10", "handoff accepted", "7", "follow-up done (72 h)", "5",
    ]  # fmt: skip


@pytest.mark.parametrize("name", ["deflection-by-program", "deflection-trend", "funnel"])
def test_a_chart_needs_nothing_from_outside(name: ChartName) -> None:
    drawn = render(_figures(), name)
    assert b"href" not in drawn
    assert b"<script" not in drawn
    assert b"http://" not in drawn.replace(SVG_NS.encode(), b"")


def test_an_empty_period_says_so() -> None:
    assert "no data in this period" in _texts(render([], "deflection-by-program"))
