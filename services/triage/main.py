"""Composition root of the triage service."""

from pathlib import Path

from fastapi import FastAPI

from schemas.policy import UnknownJurisdiction
from services.common.clock import Clock
from services.common.consumer import Subscription
from services.common.http import build_app
from services.common.periodic import periodic
from services.common.policy_files import DEFAULT_POLICY_DIR, load_policy_dir
from services.common.runtime import ServiceRuntime
from services.common.settings import ServiceSettings
from services.common.topics import CALLS
from services.triage.adapters.metrics import TriageMetrics
from services.triage.adapters.models import Base
from services.triage.api import policies, preview
from services.triage.app.handlers import make_handlers
from services.triage.app.retention import PurgeReport, purge_expired
from services.triage.domain.decide import lexicon_for
from services.triage.domain.findings import reader_for


class TriageSettings(ServiceSettings):
    service_name: str = "triage"
    port: int = 8001
    # One YAML file per jurisdiction; all must validate or the service does not start.
    policy_dir: Path = DEFAULT_POLICY_DIR


def create_app(settings: TriageSettings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or TriageSettings()
    book = load_policy_dir(settings.policy_dir)  # refuses to start on a broken policy
    for policy in book:
        # The shipped lexicon and each jurisdiction's additions load (and are validated)
        # now, and their readers are built: a bad word list stops the service here, and
        # the first call is not kept waiting while the tables are built.
        reader_for(lexicon_for(policy))
    runtime = ServiceRuntime(settings, [Base.metadata], clock=clock)
    metrics = TriageMetrics(runtime.metrics.registry)
    runtime.subscribe(
        Subscription(
            group_id="triage", topics=[CALLS], handlers=make_handlers(book, metrics.decided)
        )
    )
    retention_days = settings.incident_retention_days

    async def purge() -> PurgeReport:
        return await purge_expired(runtime.db, runtime.clock.now(), retention_days)

    runtime.add_worker("retention", periodic("retention", purge))
    app = build_app(
        runtime,
        title="corespond triage",
        routers=[preview.router, policies.router],
        domain_errors={UnknownJurisdiction: 422},
    )
    app.state.policies = book
    app.state.purge_expired = purge
    return app
