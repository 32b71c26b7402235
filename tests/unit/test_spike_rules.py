"""Overdose spike rules: fixed and derived thresholds, one alert per area and window, cleared after.

Then the spike as CAP 1.2, checked against the OASIS schema by ``capvalidator``
(unsigned alerts, so ``strict=False``), and the Atom feed carrying them.
"""

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import capvalidator
import pytest

from schemas.policy import Spikes
from services.dispatch.domain.cap import ATOM_NS, CAP_NS, SpikeNotice, atom_feed, cap_xml
from services.dispatch.domain.spikes import (
    OpenSpike,
    Overdose,
    SpikeDecision,
    cell_of,
    cell_polygon,
    daily_counts,
    derived_threshold,
    detect,
)

NOW = datetime(2026, 12, 8, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
# Three points within a few hundred metres of each other in Denver, in one cell.
POINT = (39.7392, -104.9903)


def _burst(n: int, *, point: bool = False, start: datetime = NOW) -> list[Overdose]:
    lat, lon = POINT if point else (None, None)
    return [
        Overdose(f"od-{start:%d%H}-{i}", start - i * HOUR, "default", lat, lon) for i in range(n)
    ]


def _run(
    overdoses: list[Overdose], spikes: Spikes, open_spikes: list[OpenSpike], now: datetime = NOW
) -> SpikeDecision:
    return detect(overdoses, lambda _j: spikes, open_spikes, now)


FIXED = Spikes(overdose_24h=5)


def _parse(xml: bytes) -> ET.Element:
    return ET.fromstring(xml)  # noqa: S314 - XML this test built itself


def test_a_fixed_threshold_alerts_only_when_exceeded() -> None:
    assert _run(_burst(5), FIXED, []).raised == []
    found = _run(_burst(6), FIXED, []).raised
    assert [(s.area.key, s.count, s.threshold.value, s.threshold.basis) for s in found] == [
        ("jurisdiction:default", 6, 5.0, "fixed")
    ]
    assert found[0].latest_incident_id == "od-0812-0"  # the newest overdose
    assert found[0].clears_at == NOW + DAY


def test_overdoses_older_than_24_hours_do_not_count() -> None:
    old = _burst(6, start=NOW - 25 * HOUR)
    assert _run(old, FIXED, []).raised == []


def test_one_alert_per_area_and_window_then_cleared_when_the_window_passes() -> None:
    first = _run(_burst(6), FIXED, []).raised
    assert len(first) == 1
    spike = OpenSpike("s1", first[0].area.key, first[0].clears_at)
    # More overdoses within the same window: no second alert.
    later = NOW + 3 * HOUR
    again = _run(_burst(9, start=later), FIXED, [spike], later)
    assert again.raised == []
    assert again.cleared == []
    # The window has passed: the spike clears; the area is quiet, nothing new.
    after = NOW + DAY
    quiet = _run(_burst(6), FIXED, [spike], after)
    assert quiet.cleared == ["s1"]
    assert quiet.raised == []
    # Still busy when it clears: a new window, a new alert.
    busy = _run(_burst(7, start=after), FIXED, [spike], after)
    assert busy.cleared == ["s1"]
    assert [s.count for s in busy.raised] == [7]


def test_a_known_point_also_counts_in_its_one_kilometre_cell() -> None:
    rules = Spikes(overdose_24h=5, cell_overdose_24h=4)
    found = _run(_burst(5, point=True), rules, []).raised
    row, col = cell_of(*POINT)
    assert [s.area.key for s in found] == [f"cell:default:{row}:{col}"]
    polygon = found[0].area.geometry["polygon"]
    assert polygon[0] == polygon[-1]
    assert len(polygon) == 5
    lats = [p[0] for p in polygon]  # type: ignore[index]
    assert min(lats) <= POINT[0] <= max(lats)
    # About a kilometre a side.
    assert 0.0089 < max(lats) - min(lats) < 0.0091


def test_a_derived_threshold_is_mean_plus_two_sd_of_the_busiest_history() -> None:
    start = NOW - DAY
    # 90 days of 3, 1, 3, 1 ... overdoses: over 30 and 90 days mean 2, population SD 1
    # (threshold 4); the last 7 days are 3,1,3,1,3,1,3: mean 15/7, SD 0.99 → 4.122, the highest.
    history = [
        start - (d + 0.5) * DAY - k * HOUR for d in range(90) for k in range(1 if d % 2 else 3)
    ]
    assert daily_counts(history, start, 4) == [3, 1, 3, 1]
    assert derived_threshold(history, start) == 4.122
    past = [Overdose(f"h{i}", at, "default") for i, at in enumerate(history)]
    quiet = Spikes()
    assert _run(past + _burst(4), quiet, []).raised == []
    found = _run(past + _burst(5), quiet, []).raised
    assert [(s.count, s.threshold.value, s.threshold.basis) for s in found] == [
        (5, 4.122, "history")
    ]


def test_a_busy_last_week_raises_the_bar_over_a_quiet_quarter() -> None:
    start = NOW - DAY
    quarter = [start - (d + 0.5) * DAY for d in range(7, 90)]  # one a day
    week = [start - (d + 0.5) * DAY - k * HOUR for d in range(7) for k in range(6)]  # six a day
    # 7 days: mean 6, SD 0 → 6; 30 days: mean 65/30, SD 2.115 → 6.396, the highest;
    # 90 days: mean 125/90 → lower.
    assert derived_threshold(quarter + week, start) == 6.396
    past = [Overdose(f"h{i}", at, "default") for i, at in enumerate(quarter + week)]
    assert _run(past + _burst(6), Spikes(), []).raised == []
    assert len(_run(past + _burst(7), Spikes(), []).raised) == 1


def test_a_derived_threshold_needs_the_policy_minimum() -> None:
    # No history at all: mean and SD are 0, but two overdoses are not a spike.
    assert _run(_burst(2), Spikes(), []).raised == []
    assert len(_run(_burst(3), Spikes(), []).raised) == 1
    assert _run(_burst(3), Spikes(minimum=4), []).raised == []


def test_a_jurisdiction_with_spikes_disabled_never_alerts() -> None:
    assert _run(_burst(50), Spikes(enabled=False, overdose_24h=1), []).raised == []


def _notice(**changes: object) -> SpikeNotice:
    fields: dict[str, object] = {
        "id": "01JSPIKE",
        "sender": "corespond@default",
        "jurisdiction": "default",
        "area_description": "default: 1 km grid cell 4414:-11761",
        "geometry": {"polygon": cell_polygon(*cell_of(*POINT))},
        "count": 6,
        "threshold": 5.0,
        "basis": "fixed",
        "window_start": NOW - DAY,
        "raised_at": NOW,
        "clears_at": NOW + DAY,
    }
    fields.update(changes)
    return SpikeNotice(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "notice",
    [
        _notice(),
        _notice(geometry={"circle": [39.74, -104.99, 2.0]}, basis="history", threshold=3.25),
        _notice(geometry={}),
    ],
    ids=["polygon", "circle", "no-geometry"],
)
def test_a_spike_is_a_valid_cap_alert(notice: SpikeNotice) -> None:
    xml = cap_xml(notice)
    result = capvalidator.validate_cap_message(xml, strict=False)
    assert result.passed, result.message
    alert = _parse(xml)
    ns = {"cap": CAP_NS}
    assert alert.findtext("cap:status", namespaces=ns) == "Actual"
    assert alert.findtext("cap:msgType", namespaces=ns) == "Alert"
    assert alert.findtext("cap:scope", namespaces=ns) == "Restricted"
    assert alert.findtext("cap:info/cap:category", namespaces=ns) == "Health"
    assert alert.findtext("cap:sent", namespaces=ns) == "2026-12-08T12:00:00+00:00"


def test_a_cleared_spike_is_a_valid_cap_cancel_referring_to_its_alert() -> None:
    notice = _notice(cleared_at=NOW + DAY)
    xml = cap_xml(notice, cancel=True)
    assert capvalidator.validate_cap_message(xml, strict=False).passed
    alert = _parse(xml)
    ns = {"cap": CAP_NS}
    assert alert.findtext("cap:msgType", namespaces=ns) == "Cancel"
    assert alert.findtext("cap:references", namespaces=ns) == (
        "corespond@default,01JSPIKE,2026-12-08T12:00:00+00:00"
    )


def test_the_validator_does_refuse_a_broken_alert() -> None:
    broken = cap_xml(_notice()).replace(b"<status>Actual</status>", b"")
    assert not capvalidator.validate_cap_message(broken, strict=False).passed


def test_the_atom_feed_carries_each_alert_and_cancel_as_valid_cap() -> None:
    feed = atom_feed(
        [_notice(), _notice(id="02JSPIKE", cleared_at=NOW + DAY)],
        base_url="https://dispatch.example",
        now=NOW,
    )
    root = _parse(feed)
    ns = {"atom": ATOM_NS, "cap": CAP_NS}
    entries = root.findall("atom:entry", ns)
    assert len(entries) == 3
    kinds = []
    for entry in entries:
        alert = entry.find("atom:content/cap:alert", ns)
        assert alert is not None
        assert capvalidator.validate_cap_message(ET.tostring(alert), strict=False).passed
        kinds.append(alert.findtext("cap:msgType", namespaces=ns))
    assert kinds == ["Cancel", "Alert", "Alert"]  # newest first
    assert root.findtext("atom:updated", namespaces=ns) == "2026-12-09T12:00:00+00:00"
