"""Twilio webhook retries: the same ``I-Twilio-Idempotency-Token`` gets the first answer back.

Twilio retries a webhook it thinks failed (a timeout, a 5xx) with the same
token. Inbound messages are also deduplicated by MessageSid and status
callbacks only move forward, so this is the outer guard: a retry is answered
from the receipt without reading the request again. Receipts are kept a week,
far beyond Twilio's retry window.
"""

from datetime import timedelta

from sqlalchemy import delete

from services.common.outbox import UnitOfWork
from services.notify.adapters.models import WebhookReceipt

KEPT_FOR = timedelta(days=7)


async def earlier_answer(uow: UnitOfWork, token: str | None) -> str | None:
    """What was answered the first time this token was seen; None if never seen (or no token)."""
    if not token:
        return None
    receipt = await uow.session.get(WebhookReceipt, token)
    return receipt.response_body if receipt is not None else None


async def keep(uow: UnitOfWork, token: str | None, path: str, response_body: str) -> None:
    if not token:
        return
    now = uow.clock.now()
    await uow.session.execute(
        delete(WebhookReceipt).where(WebhookReceipt.received_at < now - KEPT_FOR)
    )
    uow.session.add(
        WebhookReceipt(token=token, path=path, response_body=response_body, received_at=now)
    )
