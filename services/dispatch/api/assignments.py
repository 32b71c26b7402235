"""Assignments: lifecycle steps reported by a dispatcher or the unit."""

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, StringConstraints

from schemas.api import AssignmentView, Problem
from schemas.text import ONE_LINE
from schemas.vocabulary import AssignmentStatus
from services.dispatch.api.deps import Context, Runtime, UnitReporter
from services.dispatch.app.assignments import transition
from services.dispatch.app.replan import after_release
from services.dispatch.app.views import assignment_view

router = APIRouter(prefix="/v1", tags=["assignments"])


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: AssignmentStatus
    reason: Annotated[str, StringConstraints(max_length=500), ONE_LINE] | None = None


ERRORS: dict[int | str, dict[str, Any]] = {404: {"model": Problem}, 409: {"model": Problem}}


@router.post("/assignments/{assignment_id}/status", response_model=AssignmentView, responses=ERRORS)
async def move_assignment(
    assignment_id: str, body: Step, who: UnitReporter, runtime: Runtime, context: Context
) -> AssignmentView:
    async with runtime.unit_of_work() as uow:
        a = await transition(
            uow,
            assignment_id,
            body.status,
            actor=who.subject,
            policy_for=context.policies.get,
            eta=context.eta,
            reason=body.reason,
        )
        await after_release(uow, a, context.policies.get, context.eta)
        await uow.commit()
        return assignment_view(a)
