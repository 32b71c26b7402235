"""The status lifecycle of a referral Task (FHIR R4 Task, SDOH Clinical Care IG's
TaskForReferralManagement): which step is legal from which status, and who may take it.

The IG's table says who sets each status: the requester (corespond) puts a Task in
``requested`` and may cancel it or mark it entered-in-error; the responder (the
provider's system, or its on-call contact by SMS) receives, accepts, rejects, starts,
pauses, fails and completes it, and may also cancel it. ``received`` is base FHIR R4
and optional here: the IG's value set excludes it, so a provider may go straight from
``requested`` to ``accepted`` or ``rejected`` (``ready`` is never used). ``fhir.resources``
checks no value set, so this module is the only guard on ``Task.status``.
"""

from dataclasses import dataclass
from enum import StrEnum

from services.dispatch.domain.errors import Conflict, Unprocessable


class TaskStatus(StrEnum):
    DRAFT = "draft"
    REQUESTED = "requested"
    RECEIVED = "received"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    IN_PROGRESS = "in-progress"
    ON_HOLD = "on-hold"
    FAILED = "failed"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    ENTERED_IN_ERROR = "entered-in-error"


class Party(StrEnum):
    """Who asks for a step: the referral's requester (corespond) or its owner (the provider)."""

    REQUESTER = "requester"
    RESPONDER = "responder"


S = TaskStatus
LEGAL: dict[TaskStatus, frozenset[TaskStatus]] = {
    S.DRAFT: frozenset({S.REQUESTED, S.CANCELLED, S.ENTERED_IN_ERROR}),
    S.REQUESTED: frozenset({S.RECEIVED, S.ACCEPTED, S.REJECTED, S.CANCELLED, S.ENTERED_IN_ERROR}),
    S.RECEIVED: frozenset({S.ACCEPTED, S.REJECTED, S.CANCELLED, S.ENTERED_IN_ERROR}),
    S.ACCEPTED: frozenset({S.IN_PROGRESS, S.COMPLETED, S.CANCELLED, S.ENTERED_IN_ERROR}),
    S.IN_PROGRESS: frozenset({S.ON_HOLD, S.COMPLETED, S.FAILED, S.CANCELLED, S.ENTERED_IN_ERROR}),
    S.ON_HOLD: frozenset({S.IN_PROGRESS, S.FAILED, S.CANCELLED, S.ENTERED_IN_ERROR}),
    # Final: a rejected referral is followed by a new Task for the next provider.
    S.REJECTED: frozenset({S.ENTERED_IN_ERROR}),
    S.FAILED: frozenset({S.ENTERED_IN_ERROR}),
    S.COMPLETED: frozenset({S.ENTERED_IN_ERROR}),
    S.CANCELLED: frozenset({S.ENTERED_IN_ERROR}),
    S.ENTERED_IN_ERROR: frozenset(),
}
# The IG's "Set By" column.
SET_BY: dict[TaskStatus, frozenset[Party]] = {
    S.DRAFT: frozenset({Party.REQUESTER}),
    S.REQUESTED: frozenset({Party.REQUESTER}),
    S.RECEIVED: frozenset({Party.RESPONDER}),
    S.ACCEPTED: frozenset({Party.RESPONDER}),
    S.REJECTED: frozenset({Party.RESPONDER}),
    S.IN_PROGRESS: frozenset({Party.RESPONDER}),
    S.ON_HOLD: frozenset({Party.RESPONDER}),
    S.FAILED: frozenset({Party.RESPONDER}),
    S.COMPLETED: frozenset({Party.RESPONDER}),
    S.CANCELLED: frozenset({Party.REQUESTER, Party.RESPONDER}),
    S.ENTERED_IN_ERROR: frozenset({Party.REQUESTER}),
}
# The IG: "If the Task.status is rejected, cancelled, on-hold, or failed, then
# Task.statusReason.text should be included." corespond makes it a must: the next
# provider, a supervisor or an auditor needs the why.
NEEDS_REASON = frozenset({S.REJECTED, S.CANCELLED, S.ON_HOLD, S.FAILED})


class IllegalTaskTransition(Conflict):
    """The Task's current status does not allow the step (409)."""

    def __init__(self, current: TaskStatus, wanted: TaskStatus) -> None:
        super().__init__(f"a Task that is {current.value} cannot become {wanted.value}")
        self.current, self.wanted = current, wanted


class NotYoursToSet(IllegalTaskTransition):
    """The step is the other party's to take (the IG's "Set By")."""

    def __init__(self, current: TaskStatus, wanted: TaskStatus, party: Party) -> None:
        super().__init__(current, wanted)
        self.args = (f"the {party.value} of a referral cannot set it to {wanted.value}",)


@dataclass(frozen=True)
class Step:
    status: TaskStatus
    reason: str | None


def parse_status(value: object) -> TaskStatus:
    """A status as a client sent it: one of R4's codes, or a 422 naming ``Task.status``."""
    try:
        return TaskStatus(str(value)) if isinstance(value, str) else TaskStatus("")
    except ValueError:
        raise Unprocessable("Task.status", f"not a Task status: {value!r}") from None


def step(current: TaskStatus, wanted: TaskStatus, party: Party, reason: str | None) -> Step:
    """Decide one step; the same status again is not a step (409), so a retry is visible."""
    if wanted not in LEGAL[current]:
        raise IllegalTaskTransition(current, wanted)
    if party not in SET_BY[wanted]:
        raise NotYoursToSet(current, wanted, party)
    reason = reason.strip() if reason else None
    if wanted in NEEDS_REASON and not reason:
        raise Unprocessable("Task.statusReason.text", f"required when the status is {wanted}")
    return Step(wanted, reason)
