"""``GET /t/{token}``: a telehealth provider's link from their SMS, recorded, then on to the room.

No bearer token here: the link itself is the credential — unguessable, tied
to one assignment, expiring — and it opens nothing but that video room.
"""

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from services.common.runtime import ServiceRuntime
from services.notify.api.responder_page import PAGE_HEADERS, gone
from services.notify.app.telehealth import join

router = APIRouter(tags=["telehealth"])


@router.get("/t/{token}", include_in_schema=False)
async def open_link(token: str, request: Request) -> Response:
    runtime: ServiceRuntime = request.app.state.runtime
    async with runtime.unit_of_work() as uow:
        room = await join(uow, token)
        await uow.commit()
    if room is None:
        return gone()
    return RedirectResponse(room, status_code=303, headers=PAGE_HEADERS)
