"""Composition root of the triage service."""

from fastapi import FastAPI

from services.common.consumer import Subscription
from services.common.http import build_app
from services.common.runtime import ServiceRuntime
from services.common.settings import ServiceSettings
from services.common.topics import CALLS
from services.triage.adapters.models import Base
from services.triage.api import policies, preview
from services.triage.app.handlers import HANDLERS
from services.triage.domain.decide import UnknownJurisdiction


class TriageSettings(ServiceSettings):
    service_name: str = "triage"
    port: int = 8001


def create_app(settings: TriageSettings | None = None) -> FastAPI:
    settings = settings or TriageSettings()
    runtime = ServiceRuntime(
        settings,
        [Base.metadata],
        Subscription(group_id="triage", topics=[CALLS], handlers=HANDLERS),
    )
    return build_app(
        runtime,
        title="corespond triage",
        routers=[preview.router, policies.router],
        domain_errors={UnknownJurisdiction: 422},
    )
