"""Composition root of the notify service."""

from typing import Literal

from fastapi import FastAPI
from pydantic import AliasChoices, Field, SecretStr

from services.common.clock import Clock
from services.common.consumer import Subscription
from services.common.http import build_app
from services.common.runtime import ServiceRuntime
from services.common.settings import ServiceSettings
from services.common.topics import ASSIGNMENTS
from services.notify.adapters.metrics import NotifyMetrics
from services.notify.adapters.models import Base
from services.notify.adapters.sms import ConsoleSmsBackend, SmsBackend, TwilioSmsBackend
from services.notify.api import join_links, messages, responder_page, twilio_hooks
from services.notify.app.delivery import DeliveryWorker
from services.notify.app.handlers import make_handlers
from services.notify.app.telehealth import Links


class NotifySettings(ServiceSettings):
    service_name: str = "notify"
    port: int = 8002
    sms_backend: Literal["console", "twilio"] = "console"
    public_base_url: str | None = None
    twilio_account_sid: str | None = Field(
        default=None,
        validation_alias=AliasChoices("TWILIO_ACCOUNT_SID", "CORESPOND_TWILIO_ACCOUNT_SID"),
    )
    twilio_auth_token: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("TWILIO_AUTH_TOKEN", "CORESPOND_TWILIO_AUTH_TOKEN"),
    )
    twilio_messaging_service_sid: str | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "TWILIO_MESSAGING_SERVICE_SID", "CORESPOND_TWILIO_MESSAGING_SERVICE_SID"
        ),
    )
    twilio_from_number: str | None = Field(
        default=None,
        validation_alias=AliasChoices("TWILIO_FROM_NUMBER", "CORESPOND_TWILIO_FROM_NUMBER"),
    )
    # Telehealth rooms: a Jitsi-compatible service (self-hosted in production).
    telehealth_video_base_url: str = "https://meet.jit.si"
    # Only for tests and demos against a local fake of the Twilio REST API.
    twilio_api_base_url: str | None = None
    # Longest wait for Twilio's API to answer one send (connect and read), in seconds;
    # past it the send fails and is retried, so one hung request cannot stall delivery.
    twilio_timeout_s: float = Field(default=10.0, gt=0, le=120)


def sms_backend(settings: NotifySettings, runtime: ServiceRuntime) -> SmsBackend:
    if settings.sms_backend == "console":
        return ConsoleSmsBackend(runtime.db, runtime.clock)
    if not (settings.twilio_account_sid and settings.twilio_auth_token):
        raise ValueError(
            "CORESPOND_SMS_BACKEND=twilio needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"
        )
    callback = (
        settings.public_base_url.rstrip("/") + "/twilio/sms/status"
        if settings.public_base_url
        else None
    )
    return TwilioSmsBackend(
        settings.twilio_account_sid,
        settings.twilio_auth_token.get_secret_value(),
        messaging_service_sid=settings.twilio_messaging_service_sid,
        from_number=settings.twilio_from_number,
        status_callback_url=callback,
        api_base_url=settings.twilio_api_base_url,
        timeout_s=settings.twilio_timeout_s,
    )


def links(settings: NotifySettings) -> Links:
    """Links in SMS must reach corespond from a phone: the public URL when there is one."""
    public = settings.public_base_url or f"http://127.0.0.1:{settings.port}"
    return Links(public_base_url=public, video_base_url=settings.telehealth_video_base_url)


def create_app(settings: NotifySettings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or NotifySettings()
    runtime = ServiceRuntime(settings, [Base.metadata], clock=clock)
    metrics = NotifyMetrics(runtime.metrics.registry)
    worker = DeliveryWorker(
        sms_backend(settings, runtime),
        runtime.unit_of_work,
        runtime.clock,
        attempted=metrics.send_attempted,
    )
    runtime.subscribe(
        Subscription(
            group_id="notify",
            topics=[ASSIGNMENTS],
            handlers=make_handlers(worker.wake, links(settings)),
        )
    )
    runtime.add_worker("delivery", worker.run)
    app = build_app(
        runtime,
        title="corespond notify",
        routers=[messages.router, twilio_hooks.router, join_links.router, responder_page.router],
    )
    app.state.notify_metrics = metrics
    app.state.sms_backend = settings.sms_backend
    app.state.public_base_url = settings.public_base_url
    app.state.twilio_auth_token = (
        settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else None
    )
    return app
