"""Warm handoffs: ask the best provider for the service, and move on when it declines or lapses.

A responder or dispatcher asks for a service for an incident. The best
provider (see ``domain.providers``) is asked through notify; its on-call
contact answers by SMS. An accept places the person (and takes one place of
reported capacity); a decline or no answer within the policy's window asks
the next provider; when none is left, supervisors are alerted. Every step is
on the incident's timeline.
"""

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select, update

from schemas.envelope import EventType
from schemas.events import HandoffOffered
from schemas.policy import Policy
from schemas.vocabulary import AlertKind, HandoffService, HandoffStatus, IncidentStatus
from services.common.clock import new_id
from services.common.outbox import UnitOfWork
from services.dispatch.adapters.models import (
    HandoffRecord,
    IncidentRecord,
    ProviderRecord,
    TimerRecord,
)
from services.dispatch.app import referral_offers, timeline
from services.dispatch.app.alerts import clear_ended, raise_alert
from services.dispatch.domain.errors import Conflict
from services.dispatch.domain.places import used_point
from services.dispatch.domain.providers import ProviderCandidate, choose

HANDOFF_EXPIRY = "handoff_expiry"
PolicyFor = Callable[[str], Policy]


async def request(
    uow: UnitOfWork, incident: IncidentRecord, service: HandoffService, actor: str, policy: Policy
) -> HandoffRecord:
    if incident.status == IncidentStatus.CLOSED.value:
        raise Conflict(f"incident {incident.code} is closed")
    now = uow.clock.now()
    handoff = HandoffRecord(
        id=new_id(),
        incident_id=incident.id,
        service_type=service.value,
        status=HandoffStatus.OFFERED.value,
        tried=[],
        requested_by=actor,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(handoff)
    timeline.record(
        uow.session,
        incident.id,
        at=now,
        kind="handoff.requested",
        actor=actor,
        summary=f"warm handoff requested: {service.value.replace('_', ' ')}",
        data={"handoff_id": handoff.id},
    )
    await _ask_next(uow, incident, handoff, policy)
    return handoff


async def _ask_next(
    uow: UnitOfWork, incident: IncidentRecord, handoff: HandoffRecord, policy: Policy
) -> None:
    now = uow.clock.now()
    rows = (
        await uow.session.scalars(
            select(ProviderRecord).where(
                ProviderRecord.service_type == handoff.service_type,
                ProviderRecord.active.is_(True),
            )
        )
    ).all()
    _source, lat, lon = used_point(incident.locations or {})
    ranked = choose(
        [_candidate(p) for p in rows], handoff.service_type, lat, lon, now, set(handoff.tried)
    )
    if not ranked:
        handoff.status = HandoffStatus.UNPLACED.value
        handoff.provider_id = handoff.organization = None
        handoff.updated_at = now
        raise_alert(
            uow,
            AlertKind.HANDOFF_UNPLACED,
            incident,
            ["supervisor"],
            f"no provider can take the {handoff.service_type.replace('_', ' ')} handoff "
            f"for incident {incident.code}",
            supervisor_phones=policy.dispatch.supervisor_phones,
            data={"handoff_id": handoff.id},
        )
        return
    best = next(p for p in rows if p.id == ranked[0].provider_id)
    expires = now + timedelta(seconds=policy.dispatch.handoff_ack_seconds)
    handoff.status = HandoffStatus.OFFERED.value
    handoff.provider_id, handoff.organization = best.id, best.organization
    handoff.tried = [*handoff.tried, best.id]
    handoff.expires_at = expires
    handoff.updated_at = now
    referral_offers.asked(uow, handoff.id, incident.id, best.id, best.organization)
    uow.session.add(
        TimerRecord(
            id=new_id(),
            kind=HANDOFF_EXPIRY,
            incident_id=incident.id,
            handoff_id=handoff.id,
            due_at=expires,
        )
    )
    uow.emit(
        EventType.HANDOFF_OFFERED,
        incident.id,
        HandoffOffered(
            handoff_id=handoff.id,
            incident_id=incident.id,
            incident_code=incident.code,
            organization=best.organization,
            service_name=best.service_name,
            contact_phone=best.contact_phone,
            expires_at=expires,
        ),
    )
    timeline.record(
        uow.session,
        incident.id,
        at=now,
        kind="handoff.offered",
        actor="dispatch",
        summary=f"{best.organization} ({best.service_name}) asked"
        + (f", {best.capacity} places free" if best.capacity is not None else ""),
        data={"handoff_id": handoff.id, "provider_id": best.id},
    )


async def answered(
    uow: UnitOfWork,
    handoff_id: str,
    accepted: bool,
    actor: str,
    policy_for: PolicyFor,
    reason: str | None = None,
) -> None:
    """The asked provider's answer (by SMS or its referral Task); a late one (after it moved
    on) is only noted. ``reason``: why it declined, when it said."""
    handoff = await uow.session.get(HandoffRecord, handoff_id)
    if handoff is None:
        return
    incident = await uow.session.get(IncidentRecord, handoff.incident_id)
    assert incident is not None
    now = uow.clock.now()
    if handoff.status != HandoffStatus.OFFERED.value:
        timeline.record(
            uow.session,
            incident.id,
            at=now,
            kind="handoff.reply_ignored",
            actor=actor,
            summary=f"late handoff answer ignored (handoff is {handoff.status})",
        )
        return
    await _drop_timer(uow, handoff.id)
    await referral_offers.answered(uow, handoff.id, handoff.provider_id, accepted, reason)
    if accepted:
        handoff.status = HandoffStatus.ACCEPTED.value
        handoff.updated_at = now
        await uow.session.execute(
            update(ProviderRecord)
            .where(ProviderRecord.id == handoff.provider_id, ProviderRecord.capacity > 0)
            .values(capacity=ProviderRecord.capacity - 1)
            .execution_options(synchronize_session=False)
        )
        timeline.record(
            uow.session,
            incident.id,
            at=now,
            kind="handoff.accepted",
            actor=actor,
            summary=f"warm handoff accepted by {handoff.organization}",
            data={"handoff_id": handoff.id},
        )
        await clear_ended(uow, incident)  # an earlier unplaced request is placed now
        return
    await _move_on(uow, incident, handoff, "declined", actor, policy_for(incident.jurisdiction))


async def lapsed(uow: UnitOfWork, handoff_id: str, policy_for: PolicyFor) -> None:
    handoff = await uow.session.get(HandoffRecord, handoff_id)
    if handoff is None or handoff.status != HandoffStatus.OFFERED.value:
        return
    incident = await uow.session.get(IncidentRecord, handoff.incident_id)
    assert incident is not None
    await referral_offers.lapsed(
        uow, handoff.id, handoff.provider_id, "no answer in time: the next provider is asked"
    )
    await _move_on(
        uow,
        incident,
        handoff,
        "did not answer in time",
        "dispatch",
        policy_for(incident.jurisdiction),
    )


async def _move_on(
    uow: UnitOfWork,
    incident: IncidentRecord,
    handoff: HandoffRecord,
    why: str,
    actor: str,
    policy: Policy,
) -> None:
    timeline.record(
        uow.session,
        incident.id,
        at=uow.clock.now(),
        kind="handoff.declined" if why == "declined" else "handoff.expired",
        actor=actor,
        summary=f"{handoff.organization} {why}: asking the next provider",
        data={"handoff_id": handoff.id},
    )
    await _ask_next(uow, incident, handoff, policy)


async def _drop_timer(uow: UnitOfWork, handoff_id: str) -> None:
    await uow.session.execute(
        update(TimerRecord)
        .where(TimerRecord.handoff_id == handoff_id, TimerRecord.fired_at.is_(None))
        .values(fired_at=uow.clock.now())
        .execution_options(synchronize_session=False)
    )


def _candidate(p: ProviderRecord) -> ProviderCandidate:
    return ProviderCandidate(
        provider_id=p.id,
        organization=p.organization,
        service_type=p.service_type,
        lat=p.lat,
        lon=p.lon,
        timezone=p.timezone,
        schedule=tuple(p.schedule or ()),
        capacity=p.capacity,
    )
