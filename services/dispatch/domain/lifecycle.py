"""An assignment's lifecycle: which step may follow which, and what each means for the unit.

offered → accepted | declined | expired | cancelled
accepted → en_route | on_scene | cleared | cancelled
en_route → on_scene | cleared | cancelled
on_scene → cleared | cancelled

Declined, expired, cleared and cancelled are final. A unit is committed to its
incident from the offer until the assignment is final; only an accept counts as
an acknowledgement (an SMS that was delivered is not one).
"""

from schemas.vocabulary import AssignmentStatus as S
from schemas.vocabulary import UnitStatus
from services.dispatch.domain.errors import Conflict

NEXT: dict[S, frozenset[S]] = {
    S.OFFERED: frozenset({S.ACCEPTED, S.DECLINED, S.EXPIRED, S.CANCELLED}),
    S.ACCEPTED: frozenset({S.EN_ROUTE, S.ON_SCENE, S.CLEARED, S.CANCELLED}),
    S.EN_ROUTE: frozenset({S.ON_SCENE, S.CLEARED, S.CANCELLED}),
    S.ON_SCENE: frozenset({S.CLEARED, S.CANCELLED}),
    S.DECLINED: frozenset(),
    S.EXPIRED: frozenset(),
    S.CLEARED: frozenset(),
    S.CANCELLED: frozenset(),
}

ACTIVE = frozenset(s for s, after in NEXT.items() if after)
FINAL = frozenset(s for s, after in NEXT.items() if not after)
# Still an open question whether the unit will go: the offer can move on.
UNANSWERED = frozenset({S.OFFERED})
# The unit has said yes and is (or will be) working the incident.
COMMITTED = frozenset({S.ACCEPTED, S.EN_ROUTE, S.ON_SCENE})


class IllegalTransition(Conflict):
    """A step that cannot follow the assignment's current one."""

    def __init__(self, assignment: str, current: S, wanted: S) -> None:
        # ``assignment`` as a person reads it ("M4's emt assignment"), not an id.
        allowed = ", ".join(sorted(s.value for s in NEXT[current])) or "nothing (it is final)"
        super().__init__(
            f"{assignment} is {current.value}; it cannot become {wanted.value} "
            f"(allowed next: {allowed})"
        )
        self.current = current
        self.wanted = wanted


def check(assignment: str, current: S, wanted: S) -> None:
    if wanted not in NEXT[current]:
        raise IllegalTransition(assignment, current, wanted)


def unit_status_after(step: S) -> UnitStatus | None:
    """What a unit's own status becomes when its assignment takes ``step`` (None: unchanged)."""
    return {
        S.EN_ROUTE: UnitStatus.EN_ROUTE,
        S.ON_SCENE: UnitStatus.ON_SCENE,
        S.CLEARED: UnitStatus.AVAILABLE,
    }.get(step)


def step_for_unit_status(status: UnitStatus) -> S | None:
    """A unit reporting ``en_route``/``on_scene``/``available`` moves its assignment along."""
    return {
        UnitStatus.EN_ROUTE: S.EN_ROUTE,
        UnitStatus.ON_SCENE: S.ON_SCENE,
        UnitStatus.AVAILABLE: S.CLEARED,
    }.get(status)
