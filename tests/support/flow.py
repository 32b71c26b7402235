"""Steps of the call flow as a dispatcher sees them through the public API."""

from typing import Any

import httpx

from tests.support.inprocess import DEMO_CALL
from tests.support.waiting import eventually


async def submit(dispatch: httpx.AsyncClient, call: dict[str, Any] | None = None) -> str:
    response = await dispatch.post("/v1/calls", json=call or DEMO_CALL)
    assert response.status_code == 202, response.text
    incident_id: str = response.json()["incident_id"]
    return incident_id


async def incident(dispatch: httpx.AsyncClient, incident_id: str) -> dict[str, Any]:
    response = await dispatch.get(f"/v1/incidents/{incident_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def until_texted(
    dispatch: httpx.AsyncClient, incident_id: str, timeout_s: float = 20.0
) -> dict[str, Any]:
    """The incident once every offer's SMS is reported sent back on its timeline."""

    async def probe() -> dict[str, Any] | None:
        view = await incident(dispatch, incident_id)
        offers = view["assignments"]
        sent = [n for n in view["notifications"] if n["status"] == "sent"]
        if view["triage"] and offers and len(sent) == len(offers):
            return view
        return None

    return await eventually(probe, timeout_s=timeout_s, what=f"incident {incident_id} texted")
