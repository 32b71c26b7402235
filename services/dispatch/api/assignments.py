"""Assignments: lifecycle steps reported by a dispatcher or the unit; supervisors' alerts."""

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, StringConstraints
from sqlalchemy import select

from schemas.api import AssignmentView, Instant, Problem
from schemas.text import ONE_LINE
from schemas.vocabulary import AssignmentStatus
from services.common.clock import as_utc
from services.dispatch.adapters.models import AlertRecord
from services.dispatch.api.deps import AlertReader, Context, Runtime, UnitReporter
from services.dispatch.app.assignments import transition
from services.dispatch.app.replan import after_release
from services.dispatch.app.views import assignment_view

router = APIRouter(prefix="/v1", tags=["assignments"])


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: AssignmentStatus
    reason: Annotated[str, StringConstraints(max_length=500), ONE_LINE] | None = None


class AlertView(BaseModel):
    id: str
    kind: str
    incident_id: str | None
    unit_id: str | None
    audience: list[str]
    summary: str
    raised_at: Instant


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


@router.get("/alerts", response_model=list[AlertView])
async def list_alerts(_who: AlertReader, runtime: Runtime) -> list[AlertView]:
    async with runtime.db.session() as session:
        rows = (
            await session.scalars(
                select(AlertRecord).order_by(AlertRecord.raised_at.desc()).limit(200)
            )
        ).all()
    return [
        AlertView(
            id=r.id,
            kind=r.kind,
            incident_id=r.incident_id,
            unit_id=r.unit_id,
            audience=r.audience,
            summary=r.summary,
            raised_at=as_utc(r.raised_at),
        )
        for r in rows
    ]
