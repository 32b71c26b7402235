"""SMS text: the minimum necessary (42 CFR Part 2, HIPAA).

An SMS carries the incident code, the role asked, where to go and how to
answer — never a diagnosis, a substance, a name or a date of birth. The
inputs here are typed so that nothing else can reach a template.

Every piece of text that came from outside (an address, a provider's service
name, even our own codes and links) goes through ``sms_line`` first: one line,
no control or bidi characters, capped per field. The edge refuses such text
already (``schemas/text.py``); this holds even for an event from a producer
that did not, so a caller can never write lines of their own into a
responder's SMS.
"""

from dataclasses import dataclass

from schemas.text import clean_line, sms_line
from schemas.vocabulary import AlertKind, Role

_ROLE_WORDS = {
    Role.POLICE: "officer",
    Role.CLINICIAN: "clinician",
    Role.EMT: "EMT",
    Role.TELEHEALTH: "telehealth clinician",
}

SMS_MAX_CHARS = 320  # two segments: long enough, short enough to read at a glance
# Per-field caps, so no one field can crowd out how to answer.
CODE_MAX_CHARS = 32
PLACE_MAX_CHARS = 160
SERVICE_MAX_CHARS = 80


@dataclass(frozen=True)
class OfferText:
    incident_code: str
    role: Role
    priority: int
    address: str | None
    lat: float | None
    lon: float | None
    # corespond's expiring link: the assignment's page, or for telehealth the way into the
    # video room (never the room itself).
    link: str | None = None
    # The on-scene unit of a telehealth incident: corespond's link into the video clinician's
    # room, beside its page link.
    video_link: str | None = None


def _code(incident_code: str) -> str:
    return sms_line(incident_code, CODE_MAX_CHARS)


def where(offer: OfferText) -> str:
    address = sms_line(offer.address or "", PLACE_MAX_CHARS)
    if address:
        return address
    if offer.lat is not None and offer.lon is not None:
        return f"{offer.lat:.5f},{offer.lon:.5f}"
    return "location with dispatch"


def render_offer(offer: OfferText) -> str:
    code = _code(offer.incident_code)
    head = f"corespond P{offer.priority} #{code}: {_ROLE_WORDS[offer.role]} requested at "
    tail = f". Reply Y {code} to accept, N {code} to decline."
    # Our own link, cleaned but never cut: a cut link is worse than none.
    link = clean_line(offer.link or "")
    if link:
        tail += f" {'Join' if offer.role == Role.TELEHEALTH else 'Open'}: {link}"
    video = clean_line(offer.video_link or "")
    if video:
        tail += f" Video: {video}"
    # Only the place gives way to the limit: the code, how to answer and the link (a cut
    # link is worse than none) always arrive whole.
    place = where(offer)
    room = SMS_MAX_CHARS - len(head) - len(tail)
    if len(place) > room:
        place = place[: max(room - 1, 0)] + "…"
    return head + place + tail


@dataclass(frozen=True)
class FollowUpText:
    incident_code: str
    address: str | None
    lat: float | None
    lon: float | None


def render_follow_up(visit: FollowUpText) -> str:
    place = OfferText(visit.incident_code, Role.CLINICIAN, 3, visit.address, visit.lat, visit.lon)
    text = (
        f"corespond #{_code(visit.incident_code)}: outreach follow-up visit due at {where(place)}. "
        "Details in the console."
    )
    return text[:SMS_MAX_CHARS]


def render_withdrawn(incident_code: str) -> str:
    code = _code(incident_code)
    return f"corespond #{code}: offer withdrawn, someone else is going. No action needed."


def render_handoff(incident_code: str, service_name: str) -> str:
    """The provider's own name for its service and the code; nothing about the person."""
    code = _code(incident_code)
    service = sms_line(service_name, SERVICE_MAX_CHARS)
    text = (
        f"corespond #{code}: warm handoff requested for your service "
        f"'{service}'. Reply Y {code} to accept, N {code} to decline."
    )
    return text[:SMS_MAX_CHARS]


_ALERT_WORDS = {
    AlertKind.ROLE_UNFILLED: "nobody accepted an offer; the role is unfilled",
    AlertKind.OFFER_UNANSWERED: "a priority 1 offer went unanswered; the next unit is asked",
    AlertKind.HANDOFF_UNPLACED: "no provider can take a requested warm handoff",
    AlertKind.WELLBEING: "a unit passed the critical-incident exposure threshold",
    AlertKind.WORK_STUCK: "a call is stuck without triage or SMS news after every retry",
}


def render_alert(incident_code: str, kind: AlertKind) -> str:
    """A supervisor's page: which incident and what kind of problem; the rest is in the console."""
    return f"corespond ALERT #{_code(incident_code)}: {_ALERT_WORDS[kind]}. See the console now."
