"""Each role an incident needs, and how far it is from being covered: filled, offered, unfilled.

An incident that reads "dispatched" while its police role has nobody is a lie a
dispatcher acts on (a handgun call showed a clinician arriving and no police). The
state of every role is derived from its assignments here, in one place, for the
incident view and for the incident's own status.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from schemas.vocabulary import AssignmentStatus as S


class RoleState(StrEnum):
    FILLED = "filled"  # a unit accepted (or is on its way, on scene, or done)
    OFFERED = "offered"  # asked, nobody has said yes yet
    UNFILLED = "unfilled"  # nobody is asked or coming


# A unit that has said yes, or has done its work: the role is covered.
COVERING = frozenset({S.ACCEPTED, S.EN_ROUTE, S.ON_SCENE, S.CLEARED})


@dataclass(frozen=True)
class RoleCover:
    role: str
    state: RoleState
    call_signs: tuple[str, ...] = ()
    assignment_status: S | None = None


def role_covers(
    roles: Iterable[str], assignments: Iterable[tuple[str, str, str]]
) -> list[RoleCover]:
    """``roles`` in plan order; ``assignments``: (role, status, call sign), oldest first.
    The units named are those covering the role, or else those asked."""
    by_role: dict[str, list[tuple[S, str]]] = {}
    for role, status, call_sign in assignments:
        by_role.setdefault(role, []).append((S(status), call_sign))
    covers: list[RoleCover] = []
    for role in roles:
        mine = by_role.get(role, [])
        covering = [(s, c) for s, c in mine if s in COVERING]
        asked: list[tuple[S, str]] = [(s, c) for s, c in mine if s == S.OFFERED]
        if covering:
            state, named = RoleState.FILLED, covering
        elif asked:
            state, named = RoleState.OFFERED, asked
        else:
            state, named = RoleState.UNFILLED, []
        covers.append(
            RoleCover(
                role=role,
                state=state,
                call_signs=tuple(c for _, c in named),
                assignment_status=named[-1][0] if named else None,
            )
        )
    return covers


def unfilled(covers: Iterable[RoleCover]) -> list[str]:
    return [c.role for c in covers if c.state == RoleState.UNFILLED]
