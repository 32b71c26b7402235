"""Overdose spikes out: the list, one spike as CAP 1.2, and an Atom feed of CAP messages.

Scope ``Restricted``: readable by supervisors, dispatchers and program managers
(and API clients given one of those roles, as a public-health partner's feed
reader would be). Nothing personal is in a spike.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from schemas.api import Instant, Problem
from services.common.auth import Principal, StaffRole, require_roles
from services.dispatch.api.deps import Runtime
from services.dispatch.app.spikes import newest, one
from services.dispatch.domain.cap import ATOM_MEDIA_TYPE, CAP_MEDIA_TYPE, atom_feed, cap_xml

router = APIRouter(prefix="/v1", tags=["spikes"])

SpikeReader = Annotated[
    Principal,
    Depends(require_roles(StaffRole.SUPERVISOR, StaffRole.DISPATCHER, StaffRole.PROGRAM_MANAGER)),
]


class SpikeView(BaseModel):
    id: str
    jurisdiction: str
    area: str
    geometry: dict[str, list[float] | list[list[float]]]
    count: int
    threshold: float
    basis: str
    window_start: Instant
    raised_at: Instant
    clears_at: Instant
    cleared_at: Instant | None


@router.get("/spikes", response_model=list[SpikeView])
async def list_spikes(
    _who: SpikeReader, runtime: Runtime, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[SpikeView]:
    """Newest first, open and cleared."""
    async with runtime.db.session() as session:
        found = await newest(session, limit)
    return [
        SpikeView(
            id=s.id,
            jurisdiction=s.jurisdiction,
            area=s.area_description,
            geometry=s.geometry,
            count=s.count,
            threshold=s.threshold,
            basis=s.basis,
            window_start=s.window_start,
            raised_at=s.raised_at,
            clears_at=s.clears_at,
            cleared_at=s.cleared_at,
        )
        for s in found
    ]


@router.get(
    "/spikes/{spike_id}/cap",
    responses={200: {"content": {CAP_MEDIA_TYPE: {}}}, 404: {"model": Problem}},
    response_class=Response,
)
async def spike_cap(
    spike_id: str, _who: SpikeReader, runtime: Runtime, cancel: bool = False
) -> Response:
    """The spike's CAP ``Alert``; with ``cancel=true`` (once cleared) its ``Cancel``."""
    async with runtime.db.session() as session:
        spike = await one(session, spike_id)
    return Response(
        cap_xml(spike, cancel=cancel and spike.cleared_at is not None), media_type=CAP_MEDIA_TYPE
    )


@router.get(
    "/cap/feed",
    responses={200: {"content": {ATOM_MEDIA_TYPE: {}}}},
    response_class=Response,
)
async def cap_feed(request: Request, _who: SpikeReader, runtime: Runtime) -> Response:
    """Atom: the newest 100 spikes' CAP messages (Alert, and Cancel once cleared)."""
    async with runtime.db.session() as session:
        found = await newest(session, 100)
    base = str(request.base_url).rstrip("/")
    return Response(
        atom_feed(found, base_url=base, now=runtime.clock.now()), media_type=ATOM_MEDIA_TYPE
    )
