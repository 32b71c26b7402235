"""The assignment lifecycle: every legal step allowed, every other refused with a clear reason."""

import pytest

from schemas.vocabulary import AssignmentStatus as S
from services.dispatch.domain.lifecycle import FINAL, NEXT, IllegalTransition, check

# Sorted: NEXT holds sets, and parallel workers must collect the same list in the same order.
LEGAL = [(a, b) for a, after in NEXT.items() for b in sorted(after)]
ILLEGAL = [(a, b) for a in S for b in S if b not in NEXT[a]]


@pytest.mark.parametrize(("current", "wanted"), LEGAL)
def test_legal_steps_pass(current: S, wanted: S) -> None:
    check("a1", current, wanted)


@pytest.mark.parametrize(("current", "wanted"), ILLEGAL)
def test_illegal_steps_are_refused_naming_both_states(current: S, wanted: S) -> None:
    with pytest.raises(IllegalTransition) as refused:
        check("M4's emt assignment", current, wanted)
    assert str(refused.value).startswith(f"M4's emt assignment is {current.value};")
    assert wanted.value in str(refused.value)


def test_final_states_go_nowhere_and_every_state_is_reachable_from_an_offer() -> None:
    assert {S.DECLINED, S.EXPIRED, S.CLEARED, S.CANCELLED} == FINAL
    seen, frontier = {S.OFFERED}, [S.OFFERED]
    while frontier:
        for after in NEXT[frontier.pop()]:
            if after not in seen:
                seen.add(after)
                frontier.append(after)
    assert seen == set(S)


def test_a_delivered_sms_is_not_an_accept() -> None:
    # Only an explicit accept moves an offer on; there is no "delivered" step.
    assert S.ACCEPTED in NEXT[S.OFFERED]
    assert "delivered" not in {s.value for s in S}
