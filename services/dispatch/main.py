"""Composition root of the dispatch service."""

import logging
from pathlib import Path

from fastapi import FastAPI

from services.common.consumer import Subscription
from services.common.http import build_app
from services.common.runtime import ServiceRuntime
from services.common.settings import ServiceSettings
from services.common.topics import NOTIFICATIONS, TRIAGE
from services.dispatch.adapters.models import Base
from services.dispatch.adapters.roster import read_roster, seed_if_empty
from services.dispatch.api import calls, incidents, units
from services.dispatch.app.handlers import make_handlers
from services.dispatch.domain.errors import IncidentNotFound, UnitNotFound

log = logging.getLogger(__name__)


class DispatchSettings(ServiceSettings):
    service_name: str = "dispatch"
    port: int = 8000
    # A roster JSON loaded at start when the unit table is empty (demo, first run).
    seed_roster: Path | None = None


def create_app(settings: DispatchSettings | None = None) -> FastAPI:
    settings = settings or DispatchSettings()
    runtime = ServiceRuntime(
        settings,
        [Base.metadata],
        Subscription(group_id="dispatch", topics=[TRIAGE, NOTIFICATIONS], handlers=make_handlers()),
    )
    if settings.seed_roster:
        roster = read_roster(settings.seed_roster)  # fails fast, naming file and field

        async def seed() -> None:
            async with runtime.db.writing() as session:
                added = await seed_if_empty(session, roster, runtime.clock.now())
                await session.commit()
            if added:
                log.info("dispatch.roster_seeded", extra={"units": added})

        runtime.add_startup_step(seed)
    return build_app(
        runtime,
        title="corespond dispatch",
        routers=[calls.router, incidents.router, units.router],
        domain_errors={IncidentNotFound: 404, UnitNotFound: 404},
    )
