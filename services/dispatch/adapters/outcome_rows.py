"""The SQL behind outcomes and spikes: incidents read as plain rows, outcome and spike records kept.

Repositories over the session (the app layer never sees SQLAlchemy):
``OutcomeRows`` reads what the outcome report needs and stores the outcome
fields given at close; ``SpikeRows`` reads suspected overdoses and keeps spike
records. Sealed columns (triage, location, caller) are opened here, in memory;
only figures, areas and keyed hashes leave.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from schemas.vocabulary import AssignmentStatus, Category, Flag
from services.common.clock import as_utc
from services.dispatch.adapters.models import (
    AssignmentRecord,
    ExposureRecord,
    HandoffRecord,
    IncidentRecord,
    ProviderRecord,
    TimelineRecord,
)
from services.dispatch.adapters.outcome_models import OutcomeRecord, SpikeRecord
from services.dispatch.domain.cap import SpikeNotice
from services.dispatch.domain.outcomes import CallerRow, FollowUpRow, HandoffRow, IncidentRow
from services.dispatch.domain.spikes import OpenSpike, Overdose, SpikeFound

CHUNK = 500
POLICE_WENT = (
    AssignmentStatus.ACCEPTED.value,
    AssignmentStatus.EN_ROUTE.value,
    AssignmentStatus.ON_SCENE.value,
    AssignmentStatus.CLEARED.value,
)


def _chunks(ids: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def _utc(at: datetime | None) -> datetime | None:
    return None if at is None else as_utc(at)


class OutcomeRows:
    """Incidents as the outcome report reads them, and the outcome fields given at close."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def provider_exists(self, provider_id: str) -> bool:
        return await self.session.get(ProviderRecord, provider_id) is not None

    def add_outcome(self, incident_id: str, at: datetime, by: str, **fields: Any) -> None:
        """``fields``: the outcome columns (naloxone_doses, transported, ...)."""
        self.session.add(
            OutcomeRecord(incident_id=incident_id, recorded_at=at, recorded_by=by, **fields)
        )

    async def incidents(
        self,
        since: datetime,
        until: datetime,
        jurisdiction: str | None,
        program: str | None,
    ) -> list[IncidentRow]:
        query = select(IncidentRecord).where(
            IncidentRecord.received_at >= since, IncidentRecord.received_at < until
        )
        if jurisdiction is not None:
            query = query.where(IncidentRecord.jurisdiction == jurisdiction)
        if program is not None:
            query = query.where(IncidentRecord.response_model == program)
        found = list((await self.session.scalars(query)).all())
        ids = [i.id for i in found]
        on_scene = await self._first(ids, "assignment.on_scene")
        police = await self._police(ids)
        handoffs = await self._handoffs(ids)
        outcomes = await self._outcomes(ids)
        scheduled = await self._first(ids, "follow_up.scheduled")
        visits = await self._visits(ids)
        return [
            IncidentRow(
                id=i.id,
                received_at=as_utc(i.received_at),
                jurisdiction=i.jurisdiction,
                program=i.response_model or "untriaged",
                category=(i.triage or {}).get("category"),
                source=i.source,
                disposition=i.disposition,
                closed_at=_utc(i.closed_at),
                first_on_scene_at=on_scene.get(i.id),
                police_responded=i.id in police,
                handoffs=tuple(handoffs.get(i.id, ())),
                naloxone_doses=o.naloxone_doses if (o := outcomes.get(i.id)) else None,
                fatal_overdose=bool(o and o.fatal_overdose),
                transported=o.transported if o else None,
                arrest=o.arrest if o else None,
                apco_disposition=o.apco_disposition if o else None,
                follow_up_scheduled=i.id in scheduled,
                follow_up=visits.get(i.id),
            )
            for i in found
        ]

    async def _first(self, ids: Sequence[str], kind: str) -> dict[str, datetime]:
        first: dict[str, datetime] = {}
        for chunk in _chunks(ids):
            rows = await self.session.execute(
                select(TimelineRecord.incident_id, func.min(TimelineRecord.at))
                .where(TimelineRecord.incident_id.in_(chunk), TimelineRecord.kind == kind)
                .group_by(TimelineRecord.incident_id)
            )
            first.update({incident_id: as_utc(at) for incident_id, at in rows.all()})
        return first

    async def _police(self, ids: Sequence[str]) -> set[str]:
        went: set[str] = set()
        for chunk in _chunks(ids):
            rows = await self.session.scalars(
                select(AssignmentRecord.incident_id).where(
                    AssignmentRecord.incident_id.in_(chunk),
                    AssignmentRecord.role == "police",
                    AssignmentRecord.status.in_(POLICE_WENT),
                )
            )
            went.update(rows.all())
        return went

    async def _handoffs(self, ids: Sequence[str]) -> dict[str, list[HandoffRow]]:
        by_incident: dict[str, list[HandoffRow]] = defaultdict(list)
        for chunk in _chunks(ids):
            accepted: dict[str, datetime] = {}
            for at, data in (
                await self.session.execute(
                    select(TimelineRecord.at, TimelineRecord.data).where(
                        TimelineRecord.incident_id.in_(chunk),
                        TimelineRecord.kind == "handoff.accepted",
                    )
                )
            ).all():
                handoff_id = (data or {}).get("handoff_id")
                if handoff_id and handoff_id not in accepted:
                    accepted[handoff_id] = as_utc(at)
            for handoff_id, incident_id, created_at in (
                await self.session.execute(
                    select(
                        HandoffRecord.id, HandoffRecord.incident_id, HandoffRecord.created_at
                    ).where(HandoffRecord.incident_id.in_(chunk))
                )
            ).all():
                by_incident[incident_id].append(
                    HandoffRow(as_utc(created_at), accepted.get(handoff_id))
                )
        return by_incident

    async def _outcomes(self, ids: Sequence[str]) -> dict[str, OutcomeRecord]:
        found: dict[str, OutcomeRecord] = {}
        for chunk in _chunks(ids):
            rows = await self.session.scalars(
                select(OutcomeRecord).where(OutcomeRecord.incident_id.in_(chunk))
            )
            found.update({o.incident_id: o for o in rows.all()})
        return found

    async def _visits(self, ids: Sequence[str]) -> dict[str, FollowUpRow]:
        """Original incident id → its follow-up visit's close and outcome."""
        visit_of: dict[str, str] = {}
        for chunk in _chunks(ids):
            for incident_id, data in (
                await self.session.execute(
                    select(TimelineRecord.incident_id, TimelineRecord.data).where(
                        TimelineRecord.incident_id.in_(chunk),
                        TimelineRecord.kind == "follow_up.opened",
                    )
                )
            ).all():
                if (data or {}).get("incident_id"):
                    visit_of[incident_id] = data["incident_id"]
        visits: dict[str, FollowUpRow] = {}
        by_visit = {visit: original for original, visit in visit_of.items()}
        for chunk in _chunks(list(by_visit)):
            rows = await self.session.execute(
                select(IncidentRecord.id, IncidentRecord.closed_at, OutcomeRecord.follow_up_outcome)
                .outerjoin(OutcomeRecord, OutcomeRecord.incident_id == IncidentRecord.id)
                .where(IncidentRecord.id.in_(chunk))
            )
            for visit_id, closed_at, outcome in rows.all():
                visits[by_visit[visit_id]] = FollowUpRow(_utc(closed_at), outcome)
        return visits

    async def callers(
        self,
        since: datetime,
        until: datetime,
        jurisdiction: str | None,
        key: Callable[[str], str],
    ) -> list[CallerRow]:
        """Every call's caller as ``key(phone)``; the number itself stays in here."""
        query = select(IncidentRecord.caller, IncidentRecord.received_at).where(
            IncidentRecord.received_at >= since,
            IncidentRecord.received_at < until,
            IncidentRecord.source != "follow_up",
        )
        if jurisdiction is not None:
            query = query.where(IncidentRecord.jurisdiction == jurisdiction)
        rows = await self.session.execute(query)
        return [
            CallerRow(key(phone), as_utc(at))
            for caller, at in rows.all()
            if (phone := (caller or {}).get("phone"))
        ]

    async def exposures(self, since: datetime, until: datetime) -> list[list[str]]:
        rows = await self.session.scalars(
            select(ExposureRecord.kinds).where(
                ExposureRecord.at >= since, ExposureRecord.at < until
            )
        )
        return [list(kinds or []) for kinds in rows.all()]


def _point(incident: IncidentRecord) -> tuple[float | None, float | None]:
    """The dispatcher's pin, else the geocoded point, else the reported one."""
    places: dict[str, Any] = incident.locations or {}
    for source in ("pin", "geocoded"):
        place = places.get(source) or {}
        if place.get("lat") is not None and place.get("lon") is not None:
            return float(place["lat"]), float(place["lon"])
    reported = incident.location or {}
    if reported.get("lat") is not None and reported.get("lon") is not None:
        return float(reported["lat"]), float(reported["lon"])
    return None, None


class SpikeRows:
    """Suspected overdoses as spike detection counts them, and the spike records."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def overdoses(self, since: datetime, until: datetime) -> list[Overdose]:
        """Triage said overdose (category or flag), or the close gave naloxone or a fatal one."""
        confirmed = set(
            (
                await self.session.scalars(
                    select(OutcomeRecord.incident_id)
                    .join(IncidentRecord, IncidentRecord.id == OutcomeRecord.incident_id)
                    .where(
                        IncidentRecord.received_at >= since,
                        IncidentRecord.received_at < until,
                        (OutcomeRecord.naloxone_doses > 0) | OutcomeRecord.fatal_overdose,
                    )
                )
            ).all()
        )
        incidents = await self.session.scalars(
            select(IncidentRecord).where(
                IncidentRecord.received_at >= since,
                IncidentRecord.received_at < until,
                IncidentRecord.source != "follow_up",
            )
        )
        found = []
        for incident in incidents.all():
            triage = incident.triage or {}
            suspected = triage.get("category") == Category.OVERDOSE.value or (
                Flag.OVERDOSE.value in triage.get("flags", [])
            )
            if suspected or incident.id in confirmed:
                lat, lon = _point(incident)
                found.append(
                    Overdose(
                        incident.id, as_utc(incident.received_at), incident.jurisdiction, lat, lon
                    )
                )
        return found

    async def incident(self, incident_id: str) -> IncidentRecord | None:
        return await self.session.get(IncidentRecord, incident_id)

    async def open_spikes(self) -> list[OpenSpike]:
        rows = await self.session.scalars(
            select(SpikeRecord).where(SpikeRecord.cleared_at.is_(None))
        )
        return [OpenSpike(s.id, s.area_key, as_utc(s.clears_at)) for s in rows.all()]

    async def clear(self, spike_ids: Sequence[str], at: datetime) -> None:
        for spike_id in spike_ids:
            spike = await self.session.get(SpikeRecord, spike_id)
            if spike is not None and spike.cleared_at is None:
                spike.cleared_at = at
        # Before any new spike of the same area is inserted: one open spike per area.
        await self.session.flush()

    def add(self, spike_id: str, found: SpikeFound, raised_at: datetime, alert_id: str) -> None:
        self.session.add(
            SpikeRecord(
                id=spike_id,
                jurisdiction=found.area.jurisdiction,
                area_key=found.area.key,
                area_desc=found.area.description,
                geometry=found.area.geometry,
                count=found.count,
                threshold=found.threshold.value,
                basis=found.threshold.basis,
                window_start=found.window_start,
                raised_at=raised_at,
                clears_at=found.clears_at,
                alert_id=alert_id,
            )
        )

    async def get(self, spike_id: str) -> SpikeNotice | None:
        record = await self.session.get(SpikeRecord, spike_id)
        return None if record is None else _notice(record)

    async def newest(self, limit: int) -> list[SpikeNotice]:
        rows = await self.session.scalars(
            select(SpikeRecord).order_by(SpikeRecord.raised_at.desc(), SpikeRecord.id).limit(limit)
        )
        return [_notice(r) for r in rows.all()]


def _notice(record: SpikeRecord) -> SpikeNotice:
    """What CAP may say about a spike: its area and numbers."""
    return SpikeNotice(
        id=record.id,
        sender=f"corespond@{record.jurisdiction}",
        jurisdiction=record.jurisdiction,
        area_description=record.area_desc,
        geometry=record.geometry or {},
        count=record.count,
        threshold=record.threshold,
        basis=record.basis,
        window_start=as_utc(record.window_start),
        raised_at=as_utc(record.raised_at),
        clears_at=as_utc(record.clears_at),
        cleared_at=_utc(record.cleared_at),
    )
