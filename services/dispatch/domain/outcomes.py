"""The outcome report's figures, computed from plain rows: deflection, speed, naloxone, follow-ups.

Pure: the adapter reads incidents into ``IncidentRow`` s; this module decides
what each figure means and which cells are too small to show. Every figure is
one ``Figure`` (section, program, ISO week, name, value, suppressed), so the
JSON and CSV forms are the same list.

Definitions (the README repeats them for program managers):

- An incident counts in the period when it was *received* in [since, until).
  Follow-up visits (``source: follow_up``) are work, not calls: they count only
  as the follow-up of the incident that scheduled them.
- *Behavioural* calls: triage category mental health, substance use, suicide
  risk, overdose or welfare. *Answered without police*: no police unit accepted
  (an offer nobody took is not a response).
- Times run from the call's receipt to the first unit on scene, and to the first
  warm handoff accepted; median and p90 (nearest rank) in seconds.
- A handoff is *accepted within 30 minutes* of its request.
- Naloxone: incidents where it was given, doses, and *reversals* (given and the
  closing dispatcher did not mark a fatal overdose).
- Follow-ups *due*: incidents that scheduled one. *Done within 72 h*: the
  follow-up incident closed with an outcome other than ``not_reached`` within
  72 h of the original's close. *Missed*: not done and 72 h have passed.
  *Pending*: not done yet, still within 72 h.
- Repeat calls: a call whose caller (by keyed hash) called before within 30
  (or 90) days, earlier calls before ``since`` included; repeat callers: the
  distinct callers with at least one repeat call.
- APCO dispositions: closed incidents by the APCO ANS 1.111.2 code a CAD was (or
  would be) sent: the code the closer chose, else the one our disposition maps to
  (``apco_codes.yaml``).

Small cells: a count from 1 to 4 is suppressed (``value`` null, ``suppressed``
true), as public-health reports do; zero is shown, since it identifies nobody.
A rate is suppressed when its numerator, denominator or their difference is
from 1 to 4 (otherwise the small complement could be worked out); a median or
p90 over fewer than 5 values is suppressed.
"""

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services.dispatch.domain.apco_codes import default_codes

MIN_CELL = 5
HANDOFF_WITHIN = timedelta(minutes=30)
FOLLOW_UP_WITHIN = timedelta(hours=72)
REPEAT_WINDOWS_DAYS = (30, 90)
BEHAVIOURAL = frozenset({"mental_health", "substance_use", "suicide_risk", "overdose", "welfare"})
ALL = "all"


@dataclass(frozen=True)
class HandoffRow:
    requested_at: datetime
    accepted_at: datetime | None


@dataclass(frozen=True)
class FollowUpRow:
    """The follow-up incident opened for an original one, if it was opened at all."""

    closed_at: datetime | None
    outcome: str | None


@dataclass(frozen=True)
class IncidentRow:
    """One incident as the report needs it: no narrative, caller, address or name."""

    id: str
    received_at: datetime
    jurisdiction: str
    program: str  # the response model triage chose, or "untriaged"
    category: str | None
    source: str
    disposition: str | None = None
    closed_at: datetime | None = None
    first_on_scene_at: datetime | None = None
    police_responded: bool = False
    handoffs: tuple[HandoffRow, ...] = ()
    naloxone_doses: int | None = None
    fatal_overdose: bool = False
    transported: bool | None = None
    arrest: bool | None = None
    follow_up_scheduled: bool = False
    follow_up: FollowUpRow | None = None
    caller_key: str | None = None  # keyed hash of the caller's number; never the number
    apco_disposition: str | None = None  # the APCO code chosen at close, if one was


@dataclass(frozen=True)
class CallerRow:
    """A call's caller key and time, for repeat calls (earlier calls included)."""

    caller_key: str
    received_at: datetime


@dataclass(frozen=True)
class Figure:
    section: str
    name: str
    value: float | int | None
    suppressed: bool = False
    program: str = ALL
    week: str = ALL


@dataclass
class _Cells:
    figures: list[Figure] = field(default_factory=list)

    def count(self, section: str, name: str, value: int, **where: str) -> None:
        small = 0 < value < MIN_CELL
        self.figures.append(Figure(section, name, None if small else value, small, **where))

    def rate(self, section: str, name: str, part: int, whole: int, **where: str) -> None:
        small = any(0 < n < MIN_CELL for n in (part, whole, whole - part)) or whole == 0
        value = None if small else round(part / whole, 4)
        # A zero denominator is no rate at all, not a suppressed one.
        self.figures.append(Figure(section, name, value, small and whole > 0, **where))

    def spread(self, section: str, name: str, seconds: Sequence[float]) -> None:
        self.count(section, f"{name}_n", len(seconds))
        small = len(seconds) < MIN_CELL
        for label, value in (("median_s", _median(seconds)), ("p90_s", _p90(seconds))):
            shown = None if small else value
            self.figures.append(Figure(section, f"{name}_{label}", shown, small and bool(seconds)))


def _median(values: Sequence[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def _p90(values: Sequence[float]) -> float | None:
    """Nearest rank: the smallest value with at least 90% of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[math.ceil(0.9 * len(ordered)) - 1], 1)


def iso_week(at: datetime) -> str:
    year, week, _ = at.isocalendar()
    return f"{year}-W{week:02d}"


def outcome_figures(
    rows: Iterable[IncidentRow],
    callers: Iterable[CallerRow],
    exposures: Iterable[Sequence[str]],
    *,
    since: datetime,
    until: datetime,
    now: datetime,
) -> list[Figure]:
    """Every figure of the report for incidents received in [since, until).

    ``callers`` holds the calls from ``since`` minus 90 days to ``until``;
    ``exposures`` the kinds of each critical-incident exposure counted in the period.
    """
    calls = [r for r in rows if since <= r.received_at < until and r.source != "follow_up"]
    cells = _Cells()
    cells.count("calls", "incidents", len(calls))
    _deflection(cells, calls)
    _speed(cells, calls)
    _naloxone(cells, calls)
    _follow_ups(cells, calls, now)
    _repeats(cells, callers, since, until)
    worked = list(exposures)
    kinds = Counter(kind for found in worked for kind in found)
    # Counts of critical incidents worked by responders, never per responder.
    cells.count("exposures", "exposures", len(worked))
    for kind in ("fatal_overdose", "child_involved", "violent"):
        cells.count("exposures", kind, kinds.get(kind, 0))
    return cells.figures


def _deflection(cells: _Cells, calls: list[IncidentRow]) -> None:
    behavioural = [r for r in calls if r.category in BEHAVIOURAL]
    groups: dict[tuple[str, str], list[IncidentRow]] = defaultdict(list)
    for r in behavioural:
        groups[(r.program, iso_week(r.received_at))].append(r)
        groups[(r.program, ALL)].append(r)
        groups[(ALL, iso_week(r.received_at))].append(r)
        groups[(ALL, ALL)].append(r)
    groups.setdefault((ALL, ALL), [])
    for (program, week), found in sorted(groups.items()):
        without = sum(not r.police_responded for r in found)
        where = {"program": program, "week": week}
        cells.count("deflection", "behavioural_calls", len(found), **where)
        cells.count("deflection", "answered_without_police", without, **where)
        cells.rate("deflection", "deflection_rate", without, len(found), **where)


def _speed(cells: _Cells, calls: list[IncidentRow]) -> None:
    on_scene = [
        (r.first_on_scene_at - r.received_at).total_seconds()
        for r in calls
        if r.first_on_scene_at is not None
    ]
    to_handoff = [
        (min(accepted) - r.received_at).total_seconds()
        for r in calls
        if (accepted := [h.accepted_at for h in r.handoffs if h.accepted_at is not None])
    ]
    cells.spread("speed", "call_to_on_scene", on_scene)
    cells.spread("speed", "call_to_handoff_accepted", to_handoff)
    handoffs = [h for r in calls for h in r.handoffs]
    quick = sum(
        h.accepted_at is not None and h.accepted_at - h.requested_at <= HANDOFF_WITHIN
        for h in handoffs
    )
    cells.count("handoffs", "requested", len(handoffs))
    cells.count("handoffs", "accepted_within_30m", quick)
    cells.rate("handoffs", "accepted_within_30m_rate", quick, len(handoffs))


def _naloxone(cells: _Cells, calls: list[IncidentRow]) -> None:
    given = [r for r in calls if (r.naloxone_doses or 0) > 0]
    cells.count("naloxone", "incidents", len(given))
    doses = sum(r.naloxone_doses or 0 for r in given)
    # The sum of doses says nothing about fewer than five people it is not shown for.
    small = 0 < len(given) < MIN_CELL
    cells.figures.append(Figure("naloxone", "doses", None if small else doses, small))
    cells.count("naloxone", "reversals", sum(not r.fatal_overdose for r in given))
    cells.count("outcomes", "transported", sum(r.transported is True for r in calls))
    cells.count("outcomes", "arrests", sum(r.arrest is True for r in calls))
    closed = Counter(r.disposition for r in calls if r.disposition)
    for disposition, n in sorted(closed.items()):
        cells.count("dispositions", disposition, n)
    codes = Counter(code for r in calls if (code := apco_code(r)))
    for code, n in sorted(codes.items()):
        cells.count("apco_dispositions", code, n)


def apco_code(row: IncidentRow) -> str | None:
    """The APCO disposition code a closed incident carries: chosen at close, else mapped."""
    if row.apco_disposition:
        return row.apco_disposition
    if row.disposition is None:
        return None
    mapped = {d.value: c.code for d, c in default_codes().dispositions.items()}
    return mapped.get(row.disposition)


def _follow_ups(cells: _Cells, calls: list[IncidentRow], now: datetime) -> None:
    due = [r for r in calls if r.follow_up_scheduled and r.closed_at is not None]
    done = missed = 0
    for r in due:
        assert r.closed_at is not None
        deadline = r.closed_at + FOLLOW_UP_WITHIN
        visit = r.follow_up
        if (
            visit is not None
            and visit.closed_at is not None
            and visit.closed_at <= deadline
            and visit.outcome not in (None, "not_reached")
        ):
            done += 1
        elif now > deadline:
            missed += 1
    cells.count("follow_ups", "due", len(due))
    cells.count("follow_ups", "done_within_72h", done)
    cells.count("follow_ups", "missed", missed)
    cells.count("follow_ups", "pending", len(due) - done - missed)


def _repeats(cells: _Cells, callers: Iterable[CallerRow], since: datetime, until: datetime) -> None:
    by_caller: dict[str, list[datetime]] = defaultdict(list)
    for c in callers:
        by_caller[c.caller_key].append(c.received_at)
    for days in REPEAT_WINDOWS_DAYS:
        window = timedelta(days=days)
        repeat_calls = 0
        repeat_callers = 0
        for times in by_caller.values():
            times.sort()
            found = sum(
                1
                for i, at in enumerate(times)
                if since <= at < until and i > 0 and at - times[i - 1] <= window
            )
            repeat_calls += found
            repeat_callers += found > 0
        cells.count("repeat_calls", f"repeat_calls_{days}d", repeat_calls)
        cells.count("repeat_calls", f"repeat_callers_{days}d", repeat_callers)
