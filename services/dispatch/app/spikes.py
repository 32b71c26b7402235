"""Overdose spike detection, run on a timer: raise and clear spikes, alert supervisors, serve CAP.

Why a timer and not after each triaged or closed incident: a spike must also
*clear* when its window passes, which no incident announces, and one periodic
pass over the last 24 h (plus 90 days of history where a threshold is derived)
keeps the rule in one place, off the call path, and safe with several dispatch
replicas: a pass runs in one transaction and the open spike of an area is read
inside it. The interval is ``CORESPOND_SPIKE_CHECK_INTERVAL_S`` (60 s).

A raised spike goes through the existing alerts: a row in ``GET /v1/alerts``
filed on the newest overdose incident of the window, a timeline line, and an
SMS page (kind ``spike``: the text names neither overdoses nor the area, see
``notify/domain/templates.py``) to the policy's supervisors and its
``spikes.public_health_phones``; the ``alert.raised`` event carries it over the
bus. Partners read the details as CAP 1.2 (``/v1/spikes/{id}/cap``, ``/v1/cap/feed``).
"""

import logging
from datetime import timedelta

from schemas.policy import PolicyBook, Spikes, UnknownJurisdiction
from schemas.vocabulary import AlertKind
from services.common.clock import new_id
from services.common.db import Session
from services.common.outbox import UnitOfWork
from services.dispatch.adapters.outcome_rows import SpikeRows
from services.dispatch.app.alerts import raise_alert
from services.dispatch.domain.cap import SpikeNotice
from services.dispatch.domain.errors import NotFound
from services.dispatch.domain.spikes import HISTORY_DAYS, WINDOW, detect

log = logging.getLogger(__name__)


class SpikeNotFound(NotFound):
    def __init__(self, spike_id: str) -> None:
        super().__init__(f"no spike {spike_id!r}")


def _rules(policies: PolicyBook, jurisdiction: str) -> Spikes:
    try:
        return policies.get(jurisdiction).spikes
    except UnknownJurisdiction:
        return Spikes(enabled=False)


async def check(uow: UnitOfWork, policies: PolicyBook) -> tuple[int, int]:
    """One pass: clear spikes whose window passed, raise new ones. (raised, cleared)."""
    now = uow.clock.now()
    rows = SpikeRows(uow.session)
    since = now - WINDOW - timedelta(days=max(HISTORY_DAYS))
    overdoses = await rows.overdoses(since, now + timedelta(seconds=1))
    decision = detect(
        overdoses,
        lambda jurisdiction: _rules(policies, jurisdiction),
        await rows.open_spikes(),
        now,
    )
    await rows.clear(decision.cleared, now)
    for found in decision.raised:
        incident = await rows.incident(found.latest_incident_id)
        if incident is None:
            continue
        spike_id = new_id()
        policy = policies.get(found.area.jurisdiction)
        summary = (
            f"overdose spike in {found.area.description}: {found.count} suspected overdoses "
            f"in 24 h (threshold {found.threshold.value:g}, {found.threshold.basis}); "
            f"CAP at /v1/spikes/{spike_id}/cap"
        )
        alert_id = raise_alert(
            uow,
            AlertKind.SPIKE,
            incident,
            ["supervisor"],
            summary,
            supervisor_phones=[
                *policy.dispatch.supervisor_phones,
                *policy.spikes.public_health_phones,
            ],
            data={"spike_id": spike_id, "area": found.area.key},
        )
        rows.add(spike_id, found, now, alert_id)
        log.info("dispatch.spike_raised", extra={"area": found.area.key, "count": found.count})
    return len(decision.raised), len(decision.cleared)


async def one(session: Session, spike_id: str) -> SpikeNotice:
    found = await SpikeRows(session).get(spike_id)
    if found is None:
        raise SpikeNotFound(spike_id)
    return found


async def newest(session: Session, limit: int = 100) -> list[SpikeNotice]:
    return await SpikeRows(session).newest(limit)
