"""Composition root of the dispatch service."""

import logging
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from pydantic import Field, SecretStr
from sqlalchemy.exc import IntegrityError

from schemas.envelope import EventType
from services.common.clock import Clock
from services.common.consumer import Subscription
from services.common.http import build_app
from services.common.periodic import periodic
from services.common.policy_files import DEFAULT_POLICY_DIR, load_policy_dir
from services.common.runtime import ServiceRuntime
from services.common.settings import ServiceSettings
from services.common.topics import AUDIT, NOTIFICATIONS, TRIAGE
from services.dispatch.adapters import (  # noqa: F401 - tables
    address_models,
    audit_models,
    eido_models,
    identity_models,
    outcome_models,
)
from services.dispatch.adapters.address_points import AddressPointGeocoder
from services.dispatch.adapters.geocoders import Geocoders, NominatimGeocoder
from services.dispatch.adapters.metrics import DispatchMetrics
from services.dispatch.adapters.models import Base
from services.dispatch.adapters.roster import read_roster, seed_if_empty
from services.dispatch.adapters.stuck_work import dispatch_checks
from services.dispatch.adapters.unit_index_sync import LiveUnitIndex
from services.dispatch.api import (
    accounts,
    alerts,
    assignments,
    audit,
    auth,
    calls,
    directory,
    eido,
    fhir,
    incidents,
    outcomes,
    providers,
    reports,
    reports_page,
    stream,
    units,
)
from services.dispatch.api import spikes as spikes_api
from services.dispatch.api.console import TileUrl, install_console
from services.dispatch.app import audit_trail, idempotency, spikes
from services.dispatch.app.context import DispatchContext
from services.dispatch.app.eido_partner import EidoPartnerClient
from services.dispatch.app.handlers import make_handlers
from services.dispatch.app.identity import SessionPolicy, SignedOut
from services.dispatch.app.outcomes import CallerHasher
from services.dispatch.app.retention import PurgeReport, purge_expired
from services.dispatch.app.stuck_alerts import alert_supervisors
from services.dispatch.app.timers import TimerWorker
from services.dispatch.domain.eido_mapping import Issuer
from services.dispatch.domain.errors import Conflict, NotFound, Unprocessable
from services.dispatch.domain.eta import StraightLineEta

log = logging.getLogger(__name__)

# How often the unit index is compared with the database, to pick up changes
# other replicas made (its own transactions update it as they commit).
UNIT_INDEX_CHECK_S = 2.0


class DispatchSettings(ServiceSettings):
    service_name: str = "dispatch"
    port: int = 8000
    # A roster JSON loaded at start when the unit table is empty (demo, first run).
    seed_roster: Path | None = None
    # The same policy files triage reads: escalation, auto-offer, telehealth fallback.
    policy_dir: Path = DEFAULT_POLICY_DIR
    timer_poll_interval_s: float = 1.0
    # A call with no triage decision after this long is sent to triage again.
    reconcile_triage_after_s: float = Field(default=20.0, gt=0)
    # An offer notify has not reported on (beyond "queued") after this long is sent again.
    reconcile_offer_after_s: float = Field(default=20.0, gt=0)
    # Sessions: signed out after this long without use, and at the latest after the maximum.
    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    session_max_hours: int = Field(default=12, ge=1, le=7 * 24)
    # CJIS asks for at least a year of audit records; 400 days leaves a margin.
    audit_retention_days: int = Field(default=400, ge=365)
    # Where the console (in a browser) reaches triage's preview and notify's messages;
    # `corespond up` sets both, and those services' CORESPOND_CORS_ORIGINS to dispatch.
    triage_public_url: str | None = None
    notify_public_url: str | None = None
    # Who corespond is in the EIDOs it issues (NENA-STA-021): its agency id, a domain name
    # (NENA-STA-010); set it to the one your PSAP registered.
    eido_agency_id: str = Field(default="corespond.invalid", min_length=1, max_length=255)
    # The functional element that issues them (issuingElementIdentification).
    eido_element_id: str = Field(default="dispatch.corespond.invalid", min_length=1, max_length=255)
    # Address-only calls are geocoded from the imported address points; a Nominatim-compatible
    # URL (e.g. https://nominatim.example.org) adds an online geocoder, off by default so a
    # caller's address never leaves the machine unless chosen.
    geocoder_url: str | None = None
    # The longest a call's intake waits for the online geocoder (then: no point from it).
    geocoder_timeout_s: float = Field(default=2.0, gt=0, le=10)
    # Below this confidence from the address points, the online geocoder is asked too.
    geocoder_online_below: float = Field(default=0.7, ge=0, le=1)
    # The console locks (signs out, clears the screen) after this long without use: a shared
    # workstation left alone must not show the last call to whoever sits down next. At most
    # the session idle limit.
    console_idle_lock_s: int = Field(default=600, ge=30, le=12 * 3600)
    # How often overdose spikes are looked for and cleared (app/spikes.py says why a timer).
    spike_check_interval_s: float = Field(default=60.0, gt=0)
    # HMAC key for counting repeat callers in the outcome report without their numbers;
    # unset: a random key per process (hashes are only compared within one report).
    caller_hash_key: SecretStr | None = None
    # 42 CFR Part 2: a FHIR referral for substance-use treatment carries its reason (the
    # overdose or substance-use flags) only when the program's consent process allows it.
    fhir_share_substance_use: bool = False
    # A raster tile URL (``https://tiles.example.org/{z}/{x}/{y}.png``) draws a base map under
    # the console's unit map. Off by default: the console then asks no other host for anything.
    console_tile_url: TileUrl | None = None
    # A partner CAD's NENA-STA-024 EIDO WebSocket service to subscribe to (ws:// or wss://);
    # its incidents become ours as if posted to /v1/eido. Unset (the default): none.
    eido_partner_url: str | None = Field(default=None, pattern=r"^wss?://\S+$", max_length=500)
    # The bearer token presented to it on the upgrade request (the partner issues it).
    eido_partner_token: SecretStr | None = None
    # Whose policy triages and dispatches the partner's incidents.
    eido_partner_jurisdiction: str = Field(default="default", pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    # The name its incidents are handed over by (timelines, eido_references, audit).
    eido_partner_name: str = Field(default="eido-partner", min_length=1, max_length=128)


def create_app(settings: DispatchSettings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or DispatchSettings()
    context = DispatchContext(load_policy_dir(settings.policy_dir), StraightLineEta())
    runtime = ServiceRuntime(
        settings,
        [Base.metadata],
        Subscription(
            group_id="dispatch",
            topics=[TRIAGE, NOTIFICATIONS, AUDIT],
            handlers={
                **make_handlers(context.policies, context.eta),
                EventType.AUDIT_RECORDED: audit_trail.append,
            },
        ),
        clock=clock,
    )
    # Candidates are chosen from an in-memory index of units; the database still
    # decides every booking (see unit_index_sync for why a stale index is safe).
    unit_index = LiveUnitIndex.attach(runtime.db)
    runtime.add_worker(
        "unit_index", periodic("unit_index", unit_index.verify, every_s=UNIT_INDEX_CHECK_S)
    )
    timers = TimerWorker(
        runtime.unit_of_work,
        runtime.clock,
        context.policies.get,
        context.eta,
        poll_interval_s=settings.timer_poll_interval_s,
    )
    runtime.add_worker("timers", timers.run)
    runtime.reconcile(
        dispatch_checks(settings.reconcile_triage_after_s, settings.reconcile_offer_after_s),
        alert_supervisors(context),
    )
    metrics = DispatchMetrics(
        runtime.metrics.registry, runtime.db, runtime.clock, context.policies.get
    )
    runtime.metrics.refresh_at_scrape("dispatch", metrics.refresh)

    async def purge_audit() -> int:
        async with runtime.unit_of_work() as uow:
            purged = await audit_trail.purge(uow, settings.audit_retention_days)
            await uow.commit()
        if purged:
            log.info("audit.purged", extra={"count": purged})
        return purged

    runtime.add_worker("audit_retention", periodic("audit_retention", purge_audit))
    retention_days = settings.incident_retention_days

    async def purge() -> PurgeReport:
        return await purge_expired(runtime.db, runtime.clock.now(), retention_days)

    runtime.add_worker("retention", periodic("retention", purge))

    async def forget_idempotency_keys() -> int:
        async with runtime.unit_of_work() as uow:
            forgotten = await idempotency.purge_expired(uow, runtime.clock.now())
            await uow.commit()
        return forgotten

    runtime.add_worker(
        "idempotency_keys", periodic("idempotency_keys", forget_idempotency_keys, every_s=3600)
    )

    async def check_spikes() -> tuple[int, int]:
        async with runtime.unit_of_work() as uow:
            found = await spikes.check(uow, context.policies)
            await uow.commit()
        return found

    runtime.add_worker(
        "spikes", periodic("spikes", check_spikes, every_s=settings.spike_check_interval_s)
    )
    if settings.eido_partner_url:
        if settings.eido_partner_token is None:
            raise ValueError("CORESPOND_EIDO_PARTNER_URL needs CORESPOND_EIDO_PARTNER_TOKEN")
        if settings.eido_partner_jurisdiction not in context.policies:
            raise ValueError(
                f"CORESPOND_EIDO_PARTNER_JURISDICTION {settings.eido_partner_jurisdiction!r} "
                "has no policy"
            )
        partner = EidoPartnerClient(
            url=settings.eido_partner_url,
            token=settings.eido_partner_token.get_secret_value(),
            unit_of_work=runtime.unit_of_work,
            subject=settings.eido_partner_name,
            jurisdiction=settings.eido_partner_jurisdiction,
        )
        runtime.add_worker("eido_partner", partner.run)
    if settings.seed_roster:
        roster = read_roster(settings.seed_roster)  # fails fast, naming file and field

        async def seed() -> None:
            try:
                async with runtime.db.writing() as session:
                    added = await seed_if_empty(session, roster, runtime.clock.now())
                    await session.commit()
            except IntegrityError:
                # Replicas starting together all see an empty table; the first
                # commit wins and the others' inserts collide on call signs.
                log.info("dispatch.roster_seeded_elsewhere")
                return
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
            alerts.router,
            directory.router,
            providers.router,
            auth.router,
            accounts.router,
            audit.router,
            reports.router,
            outcomes.router,
            spikes_api.router,
            reports_page.router,
            stream.router,
            eido.router,
        ],
        # By branch of the error tree (domain/errors.py): a subclass finds its base.
        domain_errors={NotFound: 404, Conflict: 409, Unprocessable: 422, SignedOut: 401},
    )
    app.state.sign_in_limits = auth.SignInLimits()
    # Never later than the server's idle limit: the console renews its token only before
    # it locks, so a longer lock would keep renewing a session the server means to end.
    idle_lock_s = min(settings.console_idle_lock_s, settings.session_idle_minutes * 60)
    install_console(
        app,
        settings.triage_public_url,
        settings.notify_public_url,
        idle_lock_s,
        settings.console_tile_url,
    )
    fhir.install(app)
    app.state.session_policy = SessionPolicy(
        access_ttl=timedelta(seconds=settings.access_token_ttl_s),
        idle=timedelta(minutes=settings.session_idle_minutes),
        absolute=timedelta(hours=settings.session_max_hours),
    )
    app.state.dispatch = context
    app.state.eido_issuer = Issuer(settings.eido_agency_id, settings.eido_element_id)
    app.state.geocoder = Geocoders(
        AddressPointGeocoder(runtime.db),
        NominatimGeocoder(settings.geocoder_url, settings.geocoder_timeout_s)
        if settings.geocoder_url
        else None,
        settings.geocoder_online_below,
    )
    app.state.timers = timers
    key = settings.caller_hash_key
    app.state.caller_hasher = CallerHasher(key.get_secret_value().encode() if key else None)
    app.state.purge_expired = purge
    return app
