"""An inbound SMS: opt-outs honoured, answers matched to the right offer and relayed to dispatch.

The reply to the sender is returned (TwiML for Twilio, JSON for the console
simulator). Each provider message id is handled once, so a retried webhook
gets the same answer and changes nothing. An answer is matched to the
sender's open offers: the code picks one when several are open; with no code
and several open, the sender is asked which.
"""

from datetime import datetime, timedelta

from sqlalchemy import or_, select

from schemas.envelope import EventType
from schemas.events import HandoffReplied, ResponderReplied
from schemas.vocabulary import ReplyAnswer, ReplyChannel
from services.common.clock import as_utc, new_id
from services.common.logs import mask_phone
from services.common.outbox import UnitOfWork
from services.notify.adapters.models import ContactRecord, InboundRecord, MessageRecord
from services.notify.domain import replies
from services.notify.domain.replies import Intent, Reply

# An offer is answerable until it expires; one without a known expiry, this long.
ANSWERABLE_FOR = timedelta(hours=12)
# Arrived/done answer an offer already accepted by this number.
_NEEDS_ACCEPTED = {ReplyAnswer.ARRIVED, ReplyAnswer.DONE}


async def handle_inbound(uow: UnitOfWork, provider_id: str, from_phone: str, body: str) -> str:
    seen = await uow.session.get(InboundRecord, provider_id)
    if seen is not None:
        return seen.answer_text
    answer = await _answer(uow, from_phone, replies.read_reply(body))
    uow.session.add(
        InboundRecord(
            provider_message_id=provider_id,
            from_phone=from_phone,
            body=body,
            answer_text=answer,
            received_at=uow.clock.now(),
        )
    )
    return answer


async def _answer(uow: UnitOfWork, phone: str, reply: Reply) -> str:
    contact = await uow.session.get(ContactRecord, phone)
    opted_out = contact is not None and contact.opted_out
    if reply.intent == Intent.STOP:
        await _set_consent(uow, phone, opted_out=True)
        return replies.STOP_TEXT
    if reply.intent == Intent.START or (opted_out and reply.could_be_opt_in):
        await _set_consent(uow, phone, opted_out=False)
        return replies.START_TEXT
    if reply.intent == Intent.HELP:
        return replies.HELP_TEXT
    if reply.intent == Intent.UNCLEAR or reply.answer is None:
        return replies.UNCLEAR_TEXT
    open_offers = await _open_offers(uow, phone, reply.answer)
    if reply.code is not None:
        open_offers = [m for m in open_offers if m.incident_code == reply.code]
    if not open_offers:
        return replies.NO_OFFER_TEXT
    if len({m.incident_code for m in open_offers}) > 1:
        return replies.which_code_text([m.incident_code or "?" for m in open_offers])
    offer = open_offers[0]
    assert offer.incident_code is not None  # offers and handoff requests carry it
    relay_answer(uow, offer, reply.answer, phone, ReplyChannel.SMS)
    return replies.acknowledgement(reply.answer, offer.incident_code)


def relay_answer(
    uow: UnitOfWork,
    offer: MessageRecord,
    answer: ReplyAnswer,
    phone: str,
    channel: ReplyChannel,
) -> None:
    """Record the answer on the offer and tell dispatch (an SMS reply or the responder page)."""
    offer.answer = answer.value
    if offer.handoff_id is not None:
        uow.emit(
            EventType.HANDOFF_REPLIED,
            offer.incident_id,
            HandoffReplied(
                handoff_id=offer.handoff_id,
                incident_id=offer.incident_id,
                accepted=answer == ReplyAnswer.ACCEPT,
                from_masked=mask_phone(phone),
                received_at=uow.clock.now(),
            ),
        )
        return
    assert offer.assignment_id is not None
    uow.emit(
        EventType.RESPONDER_REPLIED,
        offer.incident_id,
        ResponderReplied(
            reply_id=new_id(),
            assignment_id=offer.assignment_id,
            incident_id=offer.incident_id,
            answer=answer,
            from_masked=mask_phone(phone),
            received_at=uow.clock.now(),
            channel=channel,
        ),
    )


def answerable(offer: MessageRecord, answer: ReplyAnswer, now: datetime) -> bool:
    """Whether this answer can still be given to this offer (the rule ``_open_offers`` queries)."""
    if offer.created_at is not None and as_utc(offer.created_at) < now - ANSWERABLE_FOR:
        return False
    if answer in _NEEDS_ACCEPTED:
        return offer.assignment_id is not None and offer.answer in {
            ReplyAnswer.ACCEPT.value,
            ReplyAnswer.ARRIVED.value,
        }
    return offer.answer is None and (offer.expires_at is None or as_utc(offer.expires_at) > now)


async def _open_offers(uow: UnitOfWork, phone: str, answer: ReplyAnswer) -> list[MessageRecord]:
    now = uow.clock.now()
    query = select(MessageRecord).where(
        MessageRecord.to_phone == phone,
        MessageRecord.created_at >= now - ANSWERABLE_FOR,
    )
    if answer in _NEEDS_ACCEPTED:
        # Only units arrive and finish; a handoff is answered yes or no.
        query = query.where(
            MessageRecord.assignment_id.is_not(None),
            MessageRecord.answer.in_([ReplyAnswer.ACCEPT.value, ReplyAnswer.ARRIVED.value]),
        )
    else:
        query = query.where(
            or_(MessageRecord.assignment_id.is_not(None), MessageRecord.handoff_id.is_not(None)),
            MessageRecord.answer.is_(None),
            or_(MessageRecord.expires_at.is_(None), MessageRecord.expires_at > now),
        )
    return list((await uow.session.scalars(query.order_by(MessageRecord.created_at))).all())


async def _set_consent(uow: UnitOfWork, phone: str, *, opted_out: bool) -> None:
    contact = await uow.session.get(ContactRecord, phone)
    if contact is None:
        uow.session.add(ContactRecord(phone=phone, opted_out=opted_out, updated_at=uow.clock.now()))
    else:
        contact.opted_out = opted_out
        contact.updated_at = uow.clock.now()
