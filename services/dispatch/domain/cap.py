"""Spike alerts as OASIS CAP 1.2 messages and an Atom feed of them, built with xml.etree.

A spike is an aggregate: the message says how many suspected overdoses an area
had within 24 h and the threshold, never an incident, a person, an address or a
time of any single call. ``scope`` is ``Restricted`` (public-health and
harm-reduction partners, not the public) and ``certainty`` ``Likely`` (counts
of *suspected* overdoses). A spike that has cleared is announced again as a
``Cancel`` referring to the ``Alert``.
"""

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
ATOM_NS = "http://www.w3.org/2005/Atom"
CAP_MEDIA_TYPE = "application/cap+xml"
ATOM_MEDIA_TYPE = "application/atom+xml"
RESTRICTION = "Public-health and harm-reduction partners of the jurisdiction; do not republish."


@dataclass(frozen=True)
class SpikeNotice:
    """What a CAP message may say about a spike: an area and numbers."""

    id: str
    sender: str  # e.g. "corespond@default"
    jurisdiction: str
    area_description: str
    geometry: dict[str, list[float] | list[list[float]]]
    count: int
    threshold: float
    basis: str
    window_start: datetime
    raised_at: datetime
    clears_at: datetime
    cleared_at: datetime | None = None


def cap_time(at: datetime) -> str:
    """CAP's dateTime: seconds and an explicit offset, never ``Z``."""
    return at.astimezone(UTC).replace(microsecond=0).isoformat()


def _text(parent: ET.Element, tag: str, value: str, ns: str = CAP_NS) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ns}}}{tag}")
    element.text = value
    return element


def alert_element(spike: SpikeNotice, *, cancel: bool = False) -> ET.Element:
    """The ``<alert>`` for a spike (``cancel``: the message withdrawing it)."""
    ET.register_namespace("", CAP_NS)
    alert = ET.Element(f"{{{CAP_NS}}}alert")
    sent = spike.cleared_at if cancel and spike.cleared_at else spike.raised_at
    _text(alert, "identifier", f"{spike.id}-cancel" if cancel else spike.id)
    _text(alert, "sender", spike.sender)
    _text(alert, "sent", cap_time(sent))
    _text(alert, "status", "Actual")
    _text(alert, "msgType", "Cancel" if cancel else "Alert")
    _text(alert, "scope", "Restricted")
    _text(alert, "restriction", RESTRICTION)
    if cancel:
        _text(alert, "references", f"{spike.sender},{spike.id},{cap_time(spike.raised_at)}")
    info = ET.SubElement(alert, f"{{{CAP_NS}}}info")
    _text(info, "language", "en-US")
    _text(info, "category", "Health")
    _text(info, "event", "Suspected overdose spike")
    _text(info, "responseType", "Monitor" if not cancel else "AllClear")
    _text(info, "urgency", "Past" if cancel else "Expected")
    _text(info, "severity", "Minor" if cancel else "Severe")
    _text(info, "certainty", "Observed" if cancel else "Likely")
    _text(info, "effective", cap_time(spike.raised_at))
    _text(info, "expires", cap_time(spike.clears_at))
    _text(info, "senderName", f"corespond dispatch, jurisdiction {spike.jurisdiction}")
    _text(info, "headline", _headline(spike, cancel))
    _text(info, "description", _description(spike))
    _text(
        info,
        "instruction",
        "Harm-reduction partners: increase naloxone distribution and outreach in the area."
        if not cancel
        else "The 24 hour window of this spike has passed.",
    )
    area = ET.SubElement(info, f"{{{CAP_NS}}}area")
    _text(area, "areaDesc", spike.area_description)
    polygon = spike.geometry.get("polygon")
    circle = spike.geometry.get("circle")
    if polygon:
        _text(area, "polygon", " ".join(f"{p[0]},{p[1]}" for p in polygon))  # type: ignore[index]
    elif circle:
        lat, lon, km = circle
        _text(area, "circle", f"{lat},{lon} {km}")
    return alert


def _headline(spike: SpikeNotice, cancel: bool) -> str:
    if cancel:
        return f"Overdose spike cleared: {spike.area_description}"
    return f"Overdose spike: {spike.area_description}"


def _description(spike: SpikeNotice) -> str:
    how = (
        "the policy's fixed threshold"
        if spike.basis == "fixed"
        else "a threshold of mean + 2 SD of the area's daily counts (7/30/90 days)"
    )
    return (
        f"{spike.count} suspected overdoses within 24 hours from {cap_time(spike.window_start)}, "
        f"above {how} ({spike.threshold:g})."
    )


def cap_xml(spike: SpikeNotice, *, cancel: bool = False) -> bytes:
    xml: bytes = ET.tostring(
        alert_element(spike, cancel=cancel), encoding="utf-8", xml_declaration=True
    )
    return xml


def atom_feed(spikes: list[SpikeNotice], *, base_url: str, now: datetime) -> bytes:
    """Newest first: each spike's Alert, and its Cancel once cleared, the CAP inside."""
    ET.register_namespace("", ATOM_NS)
    ET.register_namespace("cap", CAP_NS)
    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    _text(feed, "id", f"{base_url}/v1/cap/feed", ATOM_NS)
    _text(feed, "title", "corespond overdose spike alerts (CAP 1.2)", ATOM_NS)
    entries = [(s, False) for s in spikes] + [(s, True) for s in spikes if s.cleared_at]
    entries.sort(
        key=lambda e: e[0].cleared_at if e[1] and e[0].cleared_at else e[0].raised_at,
        reverse=True,
    )
    newest = max((_entry_time(s, c) for s, c in entries), default=now)
    _text(feed, "updated", cap_time(newest), ATOM_NS)
    author = ET.SubElement(feed, f"{{{ATOM_NS}}}author")
    _text(author, "name", "corespond dispatch", ATOM_NS)
    link = ET.SubElement(feed, f"{{{ATOM_NS}}}link")
    link.set("rel", "self")
    link.set("href", f"{base_url}/v1/cap/feed")
    for spike, cancel in entries:
        entry = ET.SubElement(feed, f"{{{ATOM_NS}}}entry")
        _text(entry, "id", f"urn:corespond:spike:{spike.id}{':cancel' if cancel else ''}", ATOM_NS)
        _text(entry, "title", _headline(spike, cancel), ATOM_NS)
        _text(entry, "updated", cap_time(_entry_time(spike, cancel)), ATOM_NS)
        href = f"{base_url}/v1/spikes/{spike.id}/cap" + ("?cancel=true" if cancel else "")
        alternate = ET.SubElement(entry, f"{{{ATOM_NS}}}link")
        alternate.set("rel", "alternate")
        alternate.set("type", CAP_MEDIA_TYPE)
        alternate.set("href", href)
        content = ET.SubElement(entry, f"{{{ATOM_NS}}}content")
        content.set("type", "text/xml")
        content.append(alert_element(spike, cancel=cancel))
    xml: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return xml


def _entry_time(spike: SpikeNotice, cancel: bool) -> datetime:
    return spike.cleared_at if cancel and spike.cleared_at else spike.raised_at
