"""A referral Task's status lifecycle (SDOH Clinical Care IG, TaskForReferralManagement):
every pair of statuses, for each party, is legal or refused exactly as the table says."""

import itertools

import pytest

from services.dispatch.domain.errors import Conflict, Unprocessable
from services.dispatch.domain.referral_lifecycle import (
    LEGAL,
    NEEDS_REASON,
    IllegalTaskTransition,
    NotYoursToSet,
    Party,
    TaskStatus,
    parse_status,
    step,
)

S = TaskStatus
R, P = Party.REQUESTER, Party.RESPONDER
# The lifecycle written out the long way, independently of the module's table.
EXPECTED: set[tuple[TaskStatus, TaskStatus, Party]] = {
    (S.DRAFT, S.REQUESTED, R),
    (S.DRAFT, S.CANCELLED, R),
    (S.DRAFT, S.CANCELLED, P),
    (S.REQUESTED, S.RECEIVED, P),
    (S.REQUESTED, S.ACCEPTED, P),
    (S.REQUESTED, S.REJECTED, P),
    (S.REQUESTED, S.CANCELLED, R),
    (S.REQUESTED, S.CANCELLED, P),
    (S.RECEIVED, S.ACCEPTED, P),
    (S.RECEIVED, S.REJECTED, P),
    (S.RECEIVED, S.CANCELLED, R),
    (S.RECEIVED, S.CANCELLED, P),
    (S.ACCEPTED, S.IN_PROGRESS, P),
    (S.ACCEPTED, S.COMPLETED, P),
    (S.ACCEPTED, S.CANCELLED, R),
    (S.ACCEPTED, S.CANCELLED, P),
    (S.IN_PROGRESS, S.ON_HOLD, P),
    (S.IN_PROGRESS, S.COMPLETED, P),
    (S.IN_PROGRESS, S.FAILED, P),
    (S.IN_PROGRESS, S.CANCELLED, R),
    (S.IN_PROGRESS, S.CANCELLED, P),
    (S.ON_HOLD, S.IN_PROGRESS, P),
    (S.ON_HOLD, S.FAILED, P),
    (S.ON_HOLD, S.CANCELLED, R),
    (S.ON_HOLD, S.CANCELLED, P),
    # Only the requester says a Task should never have existed.
    *((s, S.ENTERED_IN_ERROR, R) for s in S if s != S.ENTERED_IN_ERROR),
}
ALL = list(itertools.product(S, S, Party))


@pytest.mark.parametrize(("current", "wanted", "party"), ALL)
def test_every_step_for_every_party(current: S, wanted: S, party: Party) -> None:
    if (current, wanted, party) in EXPECTED:
        decided = step(current, wanted, party, "a reason")
        assert decided.status == wanted
        assert decided.reason == "a reason"
    elif wanted in LEGAL[current]:
        with pytest.raises(NotYoursToSet):
            step(current, wanted, party, "a reason")
    else:
        with pytest.raises(IllegalTaskTransition) as refused:
            step(current, wanted, party, "a reason")
        assert isinstance(refused.value, Conflict)  # 409


def test_the_final_statuses_lead_nowhere_but_entered_in_error() -> None:
    for final in (S.REJECTED, S.COMPLETED, S.CANCELLED, S.FAILED):
        assert LEGAL[final] == {S.ENTERED_IN_ERROR}
    assert LEGAL[S.ENTERED_IN_ERROR] == frozenset()


@pytest.mark.parametrize("wanted", sorted(NEEDS_REASON))
def test_rejecting_cancelling_pausing_or_failing_needs_a_reason(wanted: S) -> None:
    current = next(s for s in (S.REQUESTED, S.IN_PROGRESS) if wanted in LEGAL[s])
    for reason in (None, "", "   "):
        with pytest.raises(Unprocessable) as refused:
            step(current, wanted, P, reason)
        assert refused.value.field == "Task.statusReason.text"


def test_accepting_needs_no_reason() -> None:
    assert step(S.REQUESTED, S.ACCEPTED, P, None).reason is None


# "ready" is R4 but left out of the IG's value set; fhir.resources would accept "bogus".
@pytest.mark.parametrize("value", ["bogus", "Accepted", "", None, 3, "ready"])
def test_a_status_outside_the_igs_value_set_is_refused(value: object) -> None:
    with pytest.raises(Unprocessable) as refused:
        parse_status(value)
    assert refused.value.field == "Task.status"
