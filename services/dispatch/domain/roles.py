"""Each role an incident needs, and how far it is from being covered: filled, offered, unfilled.

An incident that reads "dispatched" while its police role has nobody is a lie a
dispatcher acts on (a handgun call showed a clinician arriving and no police). The
state of every role is derived from its assignments here, in one place, for the
incident view and for the incident's own status.

A role may need more than one unit (the policy's ``cover``: a weapons call needs
two police units). It is filled once that many units cover it, offered once
those covering and those asked reach it, and unfilled while fewer are asked or
coming than it needs: one officer on the way to a gun call is not enough.
"""

from collections.abc import Iterable, Mapping
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
    needed: int = 1

    @property
    def missing(self) -> int:
        """Units still to ask for: needed, less those covering or asked."""
        if self.state == RoleState.FILLED:
            return 0
        return max(0, self.needed - len(self.call_signs))


def role_covers(
    roles: Iterable[str],
    assignments: Iterable[tuple[str, str, str]],
    needed: Mapping[str, int] | None = None,
) -> list[RoleCover]:
    """``roles`` in plan order; ``assignments``: (role, status, call sign), oldest first;
    ``needed``: units per role where more than one (cover). The units named are those
    covering the role, or else (while it needs more) those covering and those asked."""
    by_role: dict[str, list[tuple[S, str]]] = {}
    for role, status, call_sign in assignments:
        by_role.setdefault(role, []).append((S(status), call_sign))
    covers: list[RoleCover] = []
    for role in roles:
        count = max(1, (needed or {}).get(role, 1))
        mine = by_role.get(role, [])
        covering = [(s, c) for s, c in mine if s in COVERING]
        asked: list[tuple[S, str]] = [(s, c) for s, c in mine if s == S.OFFERED]
        if len(covering) >= count:
            state, named = RoleState.FILLED, covering
        elif len(covering) + len(asked) >= count:
            state, named = RoleState.OFFERED, covering + asked
        else:
            state, named = RoleState.UNFILLED, covering + asked
        covers.append(
            RoleCover(
                role=role,
                state=state,
                call_signs=tuple(c for _, c in named),
                assignment_status=named[-1][0] if named else None,
                needed=count,
            )
        )
    return covers


def unfilled(covers: Iterable[RoleCover]) -> list[str]:
    return [c.role for c in covers if c.state == RoleState.UNFILLED]


def needed_by_role(entries: Iterable[Mapping[str, object]]) -> dict[str, int]:
    """Units per role as the stored recommendation says (entries before cover: one)."""
    counts: dict[str, int] = {}
    for entry in entries:
        value = entry.get("needed", 1)
        counts[str(entry["role"])] = value if isinstance(value, int) else 1
    return counts
