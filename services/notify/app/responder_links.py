"""The responder's secure link: ``/r/{token}`` opens one assignment's page, to answer it there.

Every offer SMS carries one. The page shows what the SMS shows (code, role,
where) plus the assignment's state as notify knows it, and offers the answers
that state allows; pressing one is exactly an SMS reply (same rules, same
event to dispatch), so the two ways of answering can never disagree. A
telehealth assignment's page also joins the video room (``/t/{token}``, same
token).
"""

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from schemas.events import AssignmentOffered
from schemas.vocabulary import ReplyAnswer, ReplyChannel, Role
from services.common.clock import as_utc
from services.common.outbox import UnitOfWork
from services.notify.adapters.models import MessageRecord, ResponderLink, TelehealthSession
from services.notify.app.inbound import answerable, relay_answer

# Long enough for an accepted call to be worked to the end on one shift.
LINK_VALID_FOR = timedelta(hours=12)

ANSWERS_IN_ORDER = (ReplyAnswer.ACCEPT, ReplyAnswer.DECLINE, ReplyAnswer.ARRIVED, ReplyAnswer.DONE)


@dataclass(frozen=True)
class ResponderView:
    """Everything the page shows, and nothing more."""

    incident_code: str
    call_sign: str
    role: Role
    priority: int
    address: str | None
    lat: float | None
    lon: float | None
    # None: offered, not yet answered; else the last answer given, or "ended".
    state: str | None
    can_answer: tuple[ReplyAnswer, ...]
    has_video: bool


async def issue_link(uow: UnitOfWork, offer: AssignmentOffered) -> str:
    """The token for this assignment's page (the same one if the offer is seen again)."""
    link = await uow.session.get(ResponderLink, offer.assignment_id)
    if link is None:
        now = uow.clock.now()
        link = ResponderLink(
            assignment_id=offer.assignment_id,
            token=secrets.token_urlsafe(24),
            incident_id=offer.incident_id,
            incident_code=offer.incident_code,
            call_sign=offer.call_sign,
            role=offer.role.value,
            priority=offer.priority,
            address=offer.address,
            lat=offer.lat,
            lon=offer.lon,
            phone=offer.contact_phone or "",
            created_at=now,
            expires_at=now + LINK_VALID_FOR,
        )
        uow.session.add(link)
    return link.token


async def _live_link(uow: UnitOfWork, token: str) -> ResponderLink | None:
    link = await uow.session.scalar(select(ResponderLink).where(ResponderLink.token == token))
    if link is None or as_utc(link.expires_at) <= uow.clock.now():
        return None
    return link


async def _offer(uow: UnitOfWork, link: ResponderLink) -> MessageRecord | None:
    return await uow.session.scalar(
        select(MessageRecord).where(MessageRecord.dedupe_key == f"offer:{link.assignment_id}")
    )


async def view(uow: UnitOfWork, token: str) -> ResponderView | None:
    """The page for this token; None when the token is unknown or has expired."""
    link = await _live_link(uow, token)
    if link is None:
        return None
    offer = await _offer(uow, link)
    now = uow.clock.now()
    # An ended assignment ("ended") answers nothing: ``answerable`` knows.
    allowed = (
        tuple(a for a in ANSWERS_IN_ORDER if answerable(offer, a, now)) if offer is not None else ()
    )
    room = await uow.session.get(TelehealthSession, link.assignment_id)
    has_video = room is not None and as_utc(room.expires_at) > now
    return ResponderView(
        incident_code=link.incident_code,
        call_sign=link.call_sign,
        role=Role(link.role),
        priority=link.priority,
        address=link.address,
        lat=link.lat,
        lon=link.lon,
        state=offer.answer if offer is not None else None,
        can_answer=allowed,
        has_video=has_video,
    )


class LinkGone(Exception):
    """The token is unknown or has expired."""


class NotAnswerable(Exception):
    """The assignment is no longer in a state that takes this answer."""


async def answer(uow: UnitOfWork, token: str, given: ReplyAnswer) -> None:
    """Answer the assignment from its page, under the same rules as an SMS reply."""
    link = await _live_link(uow, token)
    if link is None:
        raise LinkGone(token)
    offer = await _offer(uow, link)
    if offer is None or not answerable(offer, given, uow.clock.now()):
        raise NotAnswerable(given.value)
    relay_answer(uow, offer, given, link.phone, ReplyChannel.LINK)
