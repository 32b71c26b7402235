"""When an alert's condition has ended, and how urgent an open alert is: pure rules.

An alert stands for a condition someone must act on. It drops off the open list
when that condition ends (the incident closed, the role got a unit, the handoff
found a provider); an alert whose condition cannot end by itself (a responder's
well-being) ends when someone acknowledges it. Acknowledging any other alert
records who has it in hand, but it stays listed while the condition lasts.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from schemas.vocabulary import AlertKind, HandoffStatus

# Conditions tied to the incident: a closed incident has nothing left to fill or place.
_ENDS_WITH_INCIDENT = frozenset(
    {
        AlertKind.ROLE_UNFILLED,
        AlertKind.OFFER_UNANSWERED,
        AlertKind.HANDOFF_UNPLACED,
        AlertKind.WORK_STUCK,
    }
)
_ABOUT_A_ROLE = frozenset({AlertKind.ROLE_UNFILLED, AlertKind.OFFER_UNANSWERED})
# Nothing in dispatch ends these; a person who has seen them does.
ENDS_WHEN_ACKNOWLEDGED = frozenset({AlertKind.WELLBEING})


@dataclass(frozen=True)
class IncidentState:
    """What the rules need to know of an alert's incident."""

    closed: bool
    filled_roles: frozenset[str]
    # handoff id -> (service type, status)
    handoffs: Mapping[str, tuple[str, HandoffStatus]]


def ended(kind: AlertKind, subject: str | None, state: IncidentState) -> str | None:
    """Why the alert's condition is over (the reason recorded), or None while it lasts.

    ``subject`` is what the alert is about within its incident: the role for an
    unfilled role or an unanswered offer, the handoff id for an unplaced handoff.
    A well-being alert never ends here: ``ENDS_WHEN_ACKNOWLEDGED``.
    """
    if state.closed and kind in _ENDS_WITH_INCIDENT:
        return "incident closed"
    if kind in _ABOUT_A_ROLE and subject is not None and subject in state.filled_roles:
        return f"{subject} role filled"
    if kind == AlertKind.HANDOFF_UNPLACED and subject is not None and subject in state.handoffs:
        # Placed when a provider took this handoff, or a later request for the same service.
        service, _ = state.handoffs[subject]
        if any(s == service and st == HandoffStatus.ACCEPTED for s, st in state.handoffs.values()):
            return "handoff placed"
    return None


def subject_of(kind: AlertKind, data: Mapping[str, object] | None) -> str | None:
    """The alert's subject, read from the details it was raised with."""
    details = data or {}
    if kind in _ABOUT_A_ROLE:
        role = details.get("role")
        return str(role) if role is not None else None
    if kind == AlertKind.HANDOFF_UNPLACED:
        handoff = details.get("handoff_id")
        return str(handoff) if handoff is not None else None
    return None


# A role nobody will fill is the thing a dispatcher must not miss; then an offer a P1
# is waiting on; then the rest.
_KIND_RANK = {
    AlertKind.ROLE_UNFILLED: 0,
    AlertKind.OFFER_UNANSWERED: 1,
    AlertKind.HANDOFF_UNPLACED: 2,
    AlertKind.WORK_STUCK: 3,
    AlertKind.WELLBEING: 4,
}


def urgency(kind: AlertKind, priority: int | None, acknowledged: bool) -> tuple[int, int, int]:
    """Sort key, most urgent first: unacknowledged, then incident priority, then kind.

    An untriaged incident ranks with P1 (nobody knows yet that it is not one).
    """
    return (1 if acknowledged else 0, priority or 1, _KIND_RANK.get(kind, 9))
