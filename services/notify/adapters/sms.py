"""SMS backends behind one interface: ``console`` (embedded default) and ``twilio``.

``send`` takes the logical message id so a backend can make a repeated send of
the same message harmless (the console backend stores one row per message id).
It returns the provider's message id, or raises
:class:`~services.notify.domain.delivery.SendFailure`.
"""

import asyncio
import logging
import re
import secrets
from typing import Protocol

from sqlalchemy import select

from services.common.clock import Clock
from services.common.db import Database
from services.common.logs import mask_phone
from services.notify.adapters.models import ConsoleSms
from services.notify.domain.delivery import SendFailure

log = logging.getLogger(__name__)
_LINK_TOKEN = re.compile(r"(/[rt]/)[\w-]+")


class SmsBackend(Protocol):
    name: str

    async def send(self, message_id: str, to: str, body: str) -> str: ...


class ConsoleSmsBackend:
    """Stores and logs each message; nothing leaves the machine."""

    name = "console"

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def send(self, message_id: str, to: str, body: str) -> str:
        async with self._db.writing() as session:
            existing = await session.scalar(
                select(ConsoleSms.sid).where(ConsoleSms.message_id == message_id)
            )
            if existing:
                return str(existing)
            sid = "CM" + secrets.token_hex(16)
            session.add(
                ConsoleSms(
                    sid=sid,
                    message_id=message_id,
                    to_phone=to,
                    body=body,
                    created_at=self._clock.now(),
                )
            )
            await session.commit()
        # The text is logged for demos, but a link's token is a credential: it is not.
        shown = _LINK_TOKEN.sub(r"\1<token>", body)
        log.info("sms.console_sent", extra={"to": mask_phone(to), "body": shown, "sid": sid})
        return sid


# Twilio error codes that no retry can fix.
# https://www.twilio.com/docs/api/errors — 21211 invalid 'To', 21610 unsubscribed
# recipient, 21612 unreachable via this From, 21614 not a mobile number,
# 21408 region not enabled, 30003/30005/30006 unreachable/unknown/landline.
PERMANENT_TWILIO_CODES = frozenset({21211, 21408, 21610, 21612, 21614, 30003, 30005, 30006})


class TwilioSmsBackend:
    """The official ``twilio`` client; its blocking HTTP runs in a worker thread."""

    name = "twilio"

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        messaging_service_sid: str | None,
        from_number: str | None,
        status_callback_url: str | None,
        api_base_url: str | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        if not (messaging_service_sid or from_number):
            raise ValueError(
                "twilio backend needs TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER"
            )
        # twilio's default HTTP client waits for ever: one hung request would hold the
        # delivery worker (and its thread) with it. With a timeout it is a retryable failure.
        self._client = Client(
            account_sid, auth_token, http_client=TwilioHttpClient(timeout=timeout_s)
        )
        if api_base_url:
            self._client.api.base_url = api_base_url.rstrip("/")
        self._messaging_service_sid = messaging_service_sid
        self._from = from_number
        self._status_callback = status_callback_url

    def _create(self, to: str, body: str) -> str:
        kwargs: dict[str, str] = {"to": to, "body": body}
        if self._messaging_service_sid:
            kwargs["messaging_service_sid"] = self._messaging_service_sid
        else:
            assert self._from is not None
            kwargs["from_"] = self._from
        if self._status_callback:
            kwargs["status_callback"] = self._status_callback
        message = self._client.messages.create(**kwargs)
        return str(message.sid)

    async def send(self, message_id: str, to: str, body: str) -> str:
        from twilio.base.exceptions import TwilioException, TwilioRestException

        try:
            return await asyncio.to_thread(self._create, to, body)
        except TwilioRestException as exc:
            code = int(exc.code or 0)
            permanent = code in PERMANENT_TWILIO_CODES or (
                400 <= exc.status < 500 and exc.status != 429
            )
            raise SendFailure(str(code or exc.status), str(exc.msg), permanent) from exc
        except (TwilioException, OSError) as exc:
            raise SendFailure("network", repr(exc), permanent=False) from exc
