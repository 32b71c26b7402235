"""dispatch raises errors from one tree, so mapping its branches maps every error."""

import pytest

from services.dispatch.app.identity import AccountNotFound, SignedOut
from services.dispatch.app.offers import UnitUnavailable
from services.dispatch.domain.errors import (
    AlertNotFound,
    AssignmentNotFound,
    Conflict,
    DispatchError,
    IncidentNotFound,
    NotFound,
    ProviderNotFound,
    UnitNotFound,
    Unprocessable,
)
from services.dispatch.domain.lifecycle import IllegalTransition


@pytest.mark.parametrize(
    ("error", "branch"),
    [
        (IncidentNotFound, NotFound),
        (UnitNotFound, NotFound),
        (AssignmentNotFound, NotFound),
        (ProviderNotFound, NotFound),
        (AccountNotFound, NotFound),
        (AlertNotFound, NotFound),
        (IllegalTransition, Conflict),
        (UnitUnavailable, Conflict),
    ],
)
def test_each_error_sits_on_its_branch(error: type[Exception], branch: type[Exception]) -> None:
    assert issubclass(error, branch)
    assert issubclass(error, DispatchError)


def test_the_branches_are_distinct() -> None:
    branches = [NotFound, Conflict, Unprocessable, SignedOut]
    for a in branches:
        assert issubclass(a, DispatchError)
        assert not any(issubclass(a, b) for b in branches if b is not a)
