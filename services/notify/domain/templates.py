"""SMS text: the minimum necessary (42 CFR Part 2, HIPAA).

An SMS carries the incident code, the role asked, where to go and how to
answer — never a diagnosis, a substance, a name or a date of birth. The
inputs here are typed so that nothing else can reach a template.
"""

from dataclasses import dataclass

from schemas.vocabulary import Role

_ROLE_WORDS = {
    Role.POLICE: "officer",
    Role.CLINICIAN: "clinician",
    Role.EMT: "EMT",
    Role.TELEHEALTH: "telehealth clinician",
}

SMS_MAX_CHARS = 320  # two segments: long enough, short enough to read at a glance


@dataclass(frozen=True)
class OfferText:
    incident_code: str
    role: Role
    priority: int
    address: str | None
    lat: float | None
    lon: float | None
    # Telehealth only: corespond's expiring link to the video room (never the room itself).
    join_link: str | None = None


def where(offer: OfferText) -> str:
    if offer.address:
        return offer.address
    if offer.lat is not None and offer.lon is not None:
        return f"{offer.lat:.5f},{offer.lon:.5f}"
    return "location with dispatch"


def render_offer(offer: OfferText) -> str:
    text = (
        f"corespond P{offer.priority} #{offer.incident_code}: {_ROLE_WORDS[offer.role]} requested "
        f"at {where(offer)}. Reply Y {offer.incident_code} to accept, "
        f"N {offer.incident_code} to decline."
    )
    if offer.join_link:
        # The link goes last and whole: a cut link is worse than a shorter address.
        room = SMS_MAX_CHARS - len(offer.join_link) - len(" Join: ")
        return f"{text[:room]} Join: {offer.join_link}"
    return text[:SMS_MAX_CHARS]


@dataclass(frozen=True)
class FollowUpText:
    incident_code: str
    address: str | None
    lat: float | None
    lon: float | None


def render_follow_up(visit: FollowUpText) -> str:
    place = OfferText(visit.incident_code, Role.CLINICIAN, 3, visit.address, visit.lat, visit.lon)
    text = (
        f"corespond #{visit.incident_code}: outreach follow-up visit due at {where(place)}. "
        "Details in the console."
    )
    return text[:SMS_MAX_CHARS]


def render_withdrawn(incident_code: str) -> str:
    return f"corespond #{incident_code}: offer withdrawn, someone else is going. No action needed."


def render_handoff(incident_code: str, service_name: str) -> str:
    """The provider's own name for its service and the code; nothing about the person."""
    text = (
        f"corespond #{incident_code}: warm handoff requested for your service "
        f"'{service_name}'. Reply Y {incident_code} to accept, N {incident_code} to decline."
    )
    return text[:SMS_MAX_CHARS]
