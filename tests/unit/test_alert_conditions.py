"""When an alert's condition has ended, and which open alert comes first: the pure rules."""

from schemas.vocabulary import AlertKind as K
from schemas.vocabulary import HandoffStatus as H
from services.dispatch.domain.alerts import IncidentState, ended, subject_of, urgency

OPEN = IncidentState(closed=False, filled_roles=frozenset(), handoffs={})


def test_a_closed_incident_ends_every_condition_of_its_own_but_not_a_responders_wellbeing() -> None:
    closed = IncidentState(closed=True, filled_roles=frozenset(), handoffs={})
    for kind in (K.ROLE_UNFILLED, K.OFFER_UNANSWERED, K.HANDOFF_UNPLACED, K.WORK_STUCK):
        assert ended(kind, None, closed) == "incident closed"
    assert ended(K.WELLBEING, None, closed) is None


def test_a_role_alert_ends_when_that_role_is_filled_and_no_other() -> None:
    police_filled = IncidentState(closed=False, filled_roles=frozenset({"police"}), handoffs={})
    assert ended(K.ROLE_UNFILLED, "police", police_filled) == "police role filled"
    assert ended(K.OFFER_UNANSWERED, "police", police_filled) == "police role filled"
    assert ended(K.ROLE_UNFILLED, "clinician", police_filled) is None
    assert ended(K.ROLE_UNFILLED, "police", OPEN) is None


def test_an_unplaced_handoff_ends_when_a_provider_takes_that_service() -> None:
    later = IncidentState(
        closed=False,
        filled_roles=frozenset(),
        handoffs={"h1": ("detox", H.UNPLACED), "h2": ("detox", H.ACCEPTED)},
    )
    assert ended(K.HANDOFF_UNPLACED, "h1", later) == "handoff placed"
    other = IncidentState(
        closed=False,
        filled_roles=frozenset(),
        handoffs={"h1": ("detox", H.UNPLACED), "h2": ("shelter_bed", H.ACCEPTED)},
    )
    assert ended(K.HANDOFF_UNPLACED, "h1", other) is None


def test_the_subject_is_read_from_what_the_alert_was_raised_with() -> None:
    assert subject_of(K.ROLE_UNFILLED, {"role": "emt"}) == "emt"
    assert subject_of(K.HANDOFF_UNPLACED, {"handoff_id": "h1"}) == "h1"
    assert subject_of(K.WELLBEING, {"role": "emt"}) is None
    assert subject_of(K.WORK_STUCK, None) is None


def test_unacknowledged_p1_unfilled_roles_come_first() -> None:
    alerts = [
        ("p3 unfilled", urgency(K.ROLE_UNFILLED, 3, False)),
        ("p1 unfilled, taken", urgency(K.ROLE_UNFILLED, 1, True)),
        ("p1 handoff", urgency(K.HANDOFF_UNPLACED, 1, False)),
        ("p1 unfilled", urgency(K.ROLE_UNFILLED, 1, False)),
        ("untriaged stuck", urgency(K.WORK_STUCK, None, False)),
    ]
    order = [name for name, _ in sorted(alerts, key=lambda a: a[1])]
    assert order == [
        "p1 unfilled",
        "p1 handoff",
        "untriaged stuck",
        "p3 unfilled",
        "p1 unfilled, taken",
    ]
