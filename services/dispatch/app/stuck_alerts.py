"""When reconciliation gives up: the supervisors hear of a call nobody answered.

A call that triage never decided, or an offer notify never reported on, after
every re-send, is past what the system can repair by itself; a person must
look (is triage running? is the responder's number right?). The alert names
the incident by its code and says which answer is missing.
"""

from schemas.policy import UnknownJurisdiction
from schemas.vocabulary import AlertKind
from services.common.outbox import UnitOfWork
from services.common.reconcile import Check, GaveUp, Waiting
from services.dispatch.adapters.models import IncidentRecord
from services.dispatch.app.alerts import raise_alert
from services.dispatch.app.context import DispatchContext

AUDIENCE = ("dispatcher", "supervisor")

_MISSING = {
    "triage": "no triage decision",
    "offer": "no word from the SMS service on an offer",
}


def alert_supervisors(context: DispatchContext) -> GaveUp:
    async def gave_up(uow: UnitOfWork, check: Check, item: Waiting) -> None:
        incident = await uow.session.get(IncidentRecord, item.incident_id)
        if incident is None:
            return
        try:
            phones = context.policies.get(incident.jurisdiction).dispatch.supervisor_phones
        except UnknownJurisdiction:
            phones = []
        raise_alert(
            uow,
            AlertKind.WORK_STUCK,
            incident,
            AUDIENCE,
            f"incident {incident.code}: {_MISSING.get(check.name, check.name)} after "
            f"{item.resends} re-sends; check the {check.name} path",
            supervisor_phones=phones,
            data={"check": check.name, "item": item.item_id},
        )

    return gave_up
