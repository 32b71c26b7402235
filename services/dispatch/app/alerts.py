"""Raising an alert: a row for supervisors (``GET /v1/alerts``) and a line on the timeline."""

from typing import Any

from services.common.clock import new_id
from services.common.outbox import UnitOfWork
from services.dispatch.adapters.models import AlertRecord
from services.dispatch.app import timeline


def raise_alert(
    uow: UnitOfWork,
    kind: str,
    incident_id: str,
    audience: list[str],
    summary: str,
    *,
    unit_id: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    now = uow.clock.now()
    uow.session.add(
        AlertRecord(
            id=new_id(),
            kind=kind,
            incident_id=incident_id,
            unit_id=unit_id,
            audience=audience,
            summary=summary,
            raised_at=now,
        )
    )
    timeline.record(
        uow.session,
        incident_id,
        at=now,
        kind=f"alert.{kind}",
        actor="dispatch",
        summary=f"{summary}; alerted {', '.join(audience)}",
        data=data,
    )
