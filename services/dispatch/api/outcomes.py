"""``GET /v1/reports/outcomes``: a deflection program's outcome figures, as JSON or CSV.

For program managers and supervisors (the summary report's roles). Every
figure is a count, a rate or a time spread; cells from 1 to 4 are suppressed
(``value`` null, ``suppressed`` true). Nothing personal is in it.
"""

from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, StringConstraints

from schemas.api import Instant, IsoDateTime, Problem
from schemas.vocabulary import ResponseModel
from services.common.runtime import ServiceRuntime
from services.dispatch.api.deps import Runtime
from services.dispatch.api.reports import Reporter
from services.dispatch.app.outcomes import CallerHasher, as_csv, chart, report
from services.dispatch.domain.charts import SVG_MEDIA_TYPE, ChartName
from services.dispatch.domain.errors import Unprocessable
from services.dispatch.domain.outcomes import MIN_CELL, Figure

router = APIRouter(prefix="/v1", tags=["reports"])

DEFAULT_SPAN = timedelta(days=30)
LONGEST_SPAN = timedelta(days=731)


class FigureView(BaseModel):
    section: str
    program: str
    week: str
    name: str
    value: float | int | None
    suppressed: bool


class OutcomeReport(BaseModel):
    since: Instant
    until: Instant
    jurisdiction: str | None
    program: str | None
    min_cell: int
    figures: list[FigureView]


Jurisdiction = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]


async def _figures(
    request: Request,
    runtime: ServiceRuntime,
    since: datetime | None,
    until: datetime | None,
    jurisdiction: str | None,
    program: ResponseModel | None,
) -> tuple[datetime, datetime, list[Figure]]:
    now = runtime.clock.now()
    until = until or now
    since = since or until - DEFAULT_SPAN
    if since >= until:
        raise Unprocessable("since", "must be before until")
    if until - since > LONGEST_SPAN:
        raise Unprocessable("since", "at most 731 days per report; ask in parts")
    async with runtime.db.session() as session:
        figures = await report(
            session,
            since=since,
            until=until,
            jurisdiction=jurisdiction,
            program=program.value if program else None,
            now=now,
            hasher=_hasher(request),
        )
    return since, until, figures


def _hasher(request: Request) -> CallerHasher:
    hasher: CallerHasher = request.app.state.caller_hasher
    return hasher


@router.get(
    "/reports/outcomes",
    response_model=OutcomeReport,
    responses={
        200: {"content": {"text/csv": {}}},
        422: {"model": Problem},
    },
)
async def outcomes(
    request: Request,
    _who: Reporter,
    runtime: Runtime,
    since: IsoDateTime | None = None,
    until: IsoDateTime | None = None,
    jurisdiction: Jurisdiction | None = None,
    program: ResponseModel | None = None,
    format: Annotated[Literal["json", "csv"] | None, Query()] = None,
    accept: Annotated[str | None, Header()] = None,
) -> OutcomeReport | Response:
    """Incidents received in [since, until) (default: the 30 days to now); at most two years."""
    since, until, figures = await _figures(request, runtime, since, until, jurisdiction, program)
    if format == "csv" or (format is None and "text/csv" in (accept or "")):
        return Response(as_csv(figures), media_type="text/csv; charset=utf-8")
    return OutcomeReport(
        since=since,
        until=until,
        jurisdiction=jurisdiction,
        program=program.value if program else None,
        min_cell=MIN_CELL,
        figures=[FigureView(**f.__dict__) for f in figures],
    )


@router.get(
    "/reports/outcomes/charts/{name}",
    responses={
        200: {"content": {SVG_MEDIA_TYPE: {}, "text/csv": {}}},
        422: {"model": Problem},
    },
    response_class=Response,
)
async def outcome_chart(
    name: ChartName,
    request: Request,
    _who: Reporter,
    runtime: Runtime,
    since: IsoDateTime | None = None,
    until: IsoDateTime | None = None,
    jurisdiction: Jurisdiction | None = None,
    program: ResponseModel | None = None,
    format: Annotated[Literal["svg", "csv"] | None, Query()] = None,
) -> Response:
    """One chart of the report drawn as SVG on the server, or (``format=csv``) its figures."""
    _, _, figures = await _figures(request, runtime, since, until, jurisdiction, program)
    drawn, figures_of = chart(figures, name)
    if format == "csv":
        return Response(as_csv(figures_of), media_type="text/csv; charset=utf-8")
    return Response(drawn, media_type=SVG_MEDIA_TYPE)
