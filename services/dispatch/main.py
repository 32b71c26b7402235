"""Composition root of the dispatch service."""

import logging
from pathlib import Path

from fastapi import FastAPI

from services.common.clock import Clock
from services.common.consumer import Subscription
from services.common.http import build_app
from services.common.periodic import periodic
from services.common.policy_files import DEFAULT_POLICY_DIR, load_policy_dir
from services.common.runtime import ServiceRuntime
from services.common.settings import ServiceSettings
from services.common.topics import NOTIFICATIONS, TRIAGE
from services.dispatch.adapters.models import Base
from services.dispatch.adapters.roster import read_roster, seed_if_empty
from services.dispatch.api import assignments, calls, incidents, providers, units
from services.dispatch.app.context import DispatchContext
from services.dispatch.app.handlers import make_handlers
from services.dispatch.app.offers import UnitUnavailable
from services.dispatch.app.retention import PurgeReport, purge_expired
from services.dispatch.app.timers import TimerWorker
from services.dispatch.domain.errors import (
    AssignmentNotFound,
    Conflict,
    IncidentNotFound,
    UnitNotFound,
    Unprocessable,
)
from services.dispatch.domain.eta import StraightLineEta
from services.dispatch.domain.lifecycle import IllegalTransition

log = logging.getLogger(__name__)


class DispatchSettings(ServiceSettings):
    service_name: str = "dispatch"
    port: int = 8000
    # A roster JSON loaded at start when the unit table is empty (demo, first run).
    seed_roster: Path | None = None
    # The same policy files triage reads: escalation, auto-offer, telehealth fallback.
    policy_dir: Path = DEFAULT_POLICY_DIR
    timer_poll_interval_s: float = 1.0


def create_app(settings: DispatchSettings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or DispatchSettings()
    context = DispatchContext(load_policy_dir(settings.policy_dir), StraightLineEta())
    runtime = ServiceRuntime(
        settings,
        [Base.metadata],
        Subscription(
            group_id="dispatch",
            topics=[TRIAGE, NOTIFICATIONS],
            handlers=make_handlers(context.policies, context.eta),
        ),
        clock=clock,
    )
    timers = TimerWorker(
        runtime.unit_of_work,
        runtime.clock,
        context.policies.get,
        context.eta,
        poll_interval_s=settings.timer_poll_interval_s,
    )
    runtime.add_worker("timers", timers.run)
    retention_days = settings.incident_retention_days

    async def purge() -> PurgeReport:
        return await purge_expired(runtime.db, runtime.clock.now(), retention_days)

    runtime.add_worker("retention", periodic("retention", purge))
    if settings.seed_roster:
        roster = read_roster(settings.seed_roster)  # fails fast, naming file and field

        async def seed() -> None:
            async with runtime.db.writing() as session:
                added = await seed_if_empty(session, roster, runtime.clock.now())
                await session.commit()
            if added:
                log.info("dispatch.roster_seeded", extra={"units": added})

        runtime.add_startup_step(seed)
    app = build_app(
        runtime,
        title="corespond dispatch",
        routers=[
            calls.router,
            incidents.router,
            units.router,
            assignments.router,
            providers.router,
        ],
        domain_errors={
            IncidentNotFound: 404,
            UnitNotFound: 404,
            AssignmentNotFound: 404,
            IllegalTransition: 409,
            UnitUnavailable: 409,
            Conflict: 409,
            Unprocessable: 422,
        },
    )
    app.state.dispatch = context
    app.state.timers = timers
    app.state.purge_expired = purge
    return app
