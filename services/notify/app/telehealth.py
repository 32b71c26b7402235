"""Telehealth sessions: a video room per assignment, joined through corespond's expiring link.

The SMS never carries the room: it carries ``/t/{token}``, an unguessable
token tied to one assignment and its provider's number, valid for a few hours.
Opening it records the join (dispatch shows "clinician joined") and sends the
browser on to the room. The room is a Jitsi-compatible URL on a configurable
base with an unguessable name.

One room per incident: the unit on scene (the officer or EMT holding the
tablet) gets its own link into the same room as the video clinician, whichever
of the two offers came first, so they meet there. Only the clinician's join is
news for dispatch; the unit on scene is there already.
"""

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from schemas.envelope import EventType
from schemas.events import AssignmentOffered, TelehealthJoined
from schemas.vocabulary import Role
from services.common.clock import as_utc
from services.common.outbox import UnitOfWork
from services.notify.adapters.models import TelehealthSession

LINK_VALID_FOR = timedelta(hours=4)


@dataclass(frozen=True)
class Links:
    """Where links point: corespond's public address, and the video service's."""

    public_base_url: str
    video_base_url: str = "https://meet.jit.si"

    def page(self, token: str) -> str:
        """A responder's assignment page (``/r/{token}``)."""
        return f"{self.public_base_url.rstrip('/')}/r/{token}"

    def join(self, token: str) -> str:
        """A telehealth provider's way into the video room (``/t/{token}``)."""
        return f"{self.public_base_url.rstrip('/')}/t/{token}"


async def open_session(uow: UnitOfWork, offer: AssignmentOffered, links: Links, token: str) -> str:
    """The join link for this assignment's responder (the same link if asked again): the
    video clinician's, or the on-scene unit's into the same room.

    ``token`` is the assignment's responder-link token: one secret opens both
    the page and the room.
    """
    session = await uow.session.get(TelehealthSession, offer.assignment_id)
    if session is None:
        session = TelehealthSession(
            assignment_id=offer.assignment_id,
            incident_id=offer.incident_id,
            role=offer.role.value,
            room_url=await _incident_room(uow, offer.incident_id, links),
            token=token,
            phone=offer.contact_phone or "",
            expires_at=uow.clock.now() + LINK_VALID_FOR,
        )
        uow.session.add(session)
    return links.join(session.token)


async def _incident_room(uow: UnitOfWork, incident_id: str, links: Links) -> str:
    """The incident's room if one of its responders has a link to it already, else a new one."""
    room = await uow.session.scalar(
        select(TelehealthSession.room_url)
        .where(TelehealthSession.incident_id == incident_id)
        .order_by(TelehealthSession.expires_at.desc())
        .limit(1)
    )
    return room or f"{links.video_base_url.rstrip('/')}/corespond-{secrets.token_urlsafe(18)}"


async def join(uow: UnitOfWork, token: str) -> str | None:
    """The room to send the browser to, recording the first join; None if unknown or expired."""
    session = await uow.session.scalar(
        select(TelehealthSession).where(TelehealthSession.token == token)
    )
    now = uow.clock.now()
    if session is None or as_utc(session.expires_at) < now:
        return None
    if session.joined_at is None:
        session.joined_at = now
        if session.role != Role.TELEHEALTH.value:
            return session.room_url  # the unit on scene: dispatch awaits the clinician
        uow.emit(
            EventType.TELEHEALTH_JOINED,
            session.incident_id,
            TelehealthJoined(
                assignment_id=session.assignment_id,
                incident_id=session.incident_id,
                joined_at=now,
            ),
        )
    return session.room_url
