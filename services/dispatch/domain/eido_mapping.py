"""Incident ⇄ EIDO: what a CAD's EIDO becomes as a call, and what an incident says as an EIDO.

Pure functions and code tables; no I/O. Every table row carries its reason.

**In** (``call_from_eido``): the narrative is the CAD's incident type and its notes (HTML
reduced to text); the location is the first location component this service can read by
value (a PIDF-LO civic address and/or point, or ``locationDescriptionText``) — a location
only *by reference* is not dereferenced (nothing here calls an outside host); the caller's
phone is the first ``tel:`` URI of a callback component. The APCO incident type becomes
*answers* only towards safety (``OD`` → overdose suspected, ``WEAPON`` → weapons,
``PERUNCON`` → not conscious): a finding the triage engine weighs beside the narrative. It
never sets an answer that would make a call safer (no weapon, not violent), so it can never
take police or an EMT off a call (DOMAIN.md rule 4: unknown is not no).

**Out** (``eido_from_incident``): incident type from the triage category, one emergency
resource per unit asked or sent, the disposition code once closed, the location, and notes.
Minimum necessary (DESIGN.md, DOMAIN.md "Privacy"): a partner CAD (``entitled=False``) gets
no narrative, no caller, no triage flags or rationale, and notes written here from
structured facts only (never a person's free text, which may quote the caller). A
dispatcher or supervisor, who sees all of it on the console anyway, also gets the call
narrative as a note, the caller's call-back number and the timeline's notes.

The code tables are data (``apco_codes.yaml``, validated at load by ``apco_codes``). The APCO
incident types are those of APCO ANS 2.103.1 (the enum in NENA's ``apco.yaml``). The
disposition codes name entries of APCO ANS 1.111.2-2018 (Common Disposition Codes); the
standard's text is not public, so their spellings are this project's reading and are listed
in the README for a PSAP to check. Our own disposition always travels alongside
(``dispositionDescriptionText``), so nothing is lost in the mapping.
"""

import html
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from schemas.api import IncidentView
from schemas.calls import Answers, Caller, CallSubmission, Location
from schemas.eido import (
    Agency,
    Call,
    Callback,
    Dispatch,
    Disposition,
    EidoDocument,
    EmergencyResource,
    Incident,
    Notes,
    Reference,
)
from schemas.eido import Location as EidoLocation
from schemas.text import clean_line, clean_text
from schemas.vocabulary import AssignmentStatus as A
from schemas.vocabulary import CallSource, Category, Flag, IncidentStatus, Role
from schemas.vocabulary import Disposition as Outcome
from services.dispatch.domain.apco_codes import NOT_SENT as UNSENT
from services.dispatch.domain.apco_codes import default_codes

# --- code tables --------------------------------------------------------------------------
# The APCO tables are data (apco_codes.yaml, validated at load); these names are views of them.
CODES = default_codes()

# APCO incident type -> answers it establishes (only facts that add a responder), and why.
APCO_FINDINGS: dict[str, tuple[dict[str, bool], str]] = {
    code: (row.answers.model_dump(exclude_none=True), row.why)
    for code, row in CODES.import_findings.items()
}

# Our triage category -> the APCO incident type a CAD files it under, and why.
CATEGORY_TO_APCO: dict[Category, tuple[str, str]] = {
    category: (row.code, row.why) for category, row in CODES.export_types.items()
}
# A call not yet triaged, with no type from a CAD: the least specific crisis type.
UNTRIAGED_APCO = CODES.untriaged

# Our disposition -> APCO ANS 1.111.2 common disposition code, and why.
DISPOSITION_TO_APCO: dict[Outcome, tuple[str, str]] = {
    disposition: (row.code, row.why) for disposition, row in CODES.dispositions.items()
}
# The disposition codes a closer may choose (the close API validates against these).
APCO_DISPOSITION_CODES: frozenset[str] = frozenset(CODES.disposition_codes)

# Assignment status -> NENA primary unit status registry text.
UNIT_STATUS: dict[A, str] = dict(CODES.unit_statuses)
# Offers nobody took are not resources of this incident.
NOT_SENT = UNSENT

RESOURCE_TYPE: dict[Role, str] = {
    Role.POLICE: "LawEnforcement",
    Role.EMT: "EMS",
    Role.CLINICIAN: "MentalHealth",
    Role.TELEHEALTH: "MentalHealth",  # a clinician by video
}

INCIDENT_STATUS: dict[IncidentStatus, str] = {
    IncidentStatus.RECEIVED: "Pending",
    IncidentStatus.TRIAGED: "Pending",
    IncidentStatus.AWAITING_DISPATCH: "Pending",
    IncidentStatus.UNASSIGNED: "Pending",
    IncidentStatus.DISPATCHED: "Dispatched",
    IncidentStatus.CLOSED: "Closed",
}

MAX_NARRATIVE = 8000
MAX_ADDRESS = 300


class EidoRefused(ValueError):
    """A valid EIDO this service cannot turn into a call; ``path`` is where (JSON path parts)."""

    def __init__(self, path: tuple[str | int, ...], message: str) -> None:
        super().__init__(f"{'.'.join(map(str, path))}: {message}")
        self.path = path
        self.message = message


# --- in ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CadCall:
    """What a CAD's EIDO says, as corespond takes a call."""

    call: CallSubmission
    apco_type: str | None
    note_ids: tuple[str, ...]


def incident_type(document: EidoDocument) -> str | None:
    incident = document.incident_component
    return incident.incident_type_common_registry_text.strip().upper() if incident else None


def answers_for(apco_type: str | None) -> Answers:
    found, _ = APCO_FINDINGS.get(apco_type or "", ({}, ""))
    return Answers(**found)


def note_text(note: Notes) -> str:
    """A note's HTML5 as plain text."""
    text = re.sub(r"<(br|/p|/div|/li)\b[^>]*>", "\n", note.notes_action_comments, flags=re.I)
    return clean_text(html.unescape(re.sub(r"<[^>]+>", "", text))).strip()


def narrative_of(document: EidoDocument, apco_type: str | None) -> str:
    incident = document.incident_component
    head = f"CAD incident type {apco_type}" if apco_type else "CAD call transfer"
    if incident and incident.incident_type_internal_text:
        head += f" ({clean_line(incident.incident_type_internal_text)})"
    notes = [note_text(n) for n in document.notes_component or []]
    text = "\n".join([head + ".", *[n for n in notes if n]])
    return text[:MAX_NARRATIVE]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _pidf(value: str, path: tuple[str | int, ...]) -> tuple[str | None, tuple[float, float] | None]:
    """A PIDF-LO's civic address (as one line) and point (lat, lon), where present."""
    # No DTD, so no entity expansion or external entity can be asked for.
    if "<!DOCTYPE" in value.upper() or "<!ENTITY" in value.upper():
        raise EidoRefused(path, "a PIDF-LO with a DTD is not accepted")
    try:
        root = ET.fromstring(value)  # noqa: S314 - DTD-free, checked above
    except ET.ParseError as error:
        raise EidoRefused(path, f"not a PIDF-LO XML document: {error}") from None
    civic: dict[str, str] = {}
    point: tuple[float, float] | None = None
    for element in root.iter():
        name, text = _local(element.tag), (element.text or "").strip()
        if name in {"HNO", "HNS", "PRD", "RD", "STS", "POD", "A1", "A3", "PC"} and text:
            civic.setdefault(name, clean_line(text))
        elif name == "pos" and point is None and text:
            parts = text.split()
            try:
                lat, lon = float(parts[0]), float(parts[1])
            except (IndexError, ValueError):
                raise EidoRefused(path, f"gml:pos {text[:40]!r} is not 'lat lon'") from None
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise EidoRefused(path, "gml:pos is outside the earth's coordinates")
            point = (lat, lon)
    street = " ".join(
        civic[k] for k in ("HNO", "HNS", "PRD", "RD", "STS", "POD") if k in civic
    ).strip()
    place = ", ".join(x for x in (street, civic.get("A3"), civic.get("A1")) if x)
    return (place or None), point


def location_of(document: EidoDocument) -> Location:
    """The first location component readable by value; the incident's own ones first."""
    components = list(enumerate(document.location_component or []))
    incident = document.incident_component
    preferred = {r.ref for r in (incident.location_reference or [])} if incident else set()
    components.sort(key=lambda item: item[1].id not in preferred)
    for index, component in components:
        path: tuple[str | int, ...] = ("locationComponent", index)
        address, point = None, None
        if component.location_by_value:
            address, point = _pidf(component.location_by_value, (*path, "locationByValue"))
        if not address and component.location_description_text:
            address = clean_line(component.location_description_text) or None
        if address or point:
            return Location(
                address=address[:MAX_ADDRESS] if address else None,
                lat=point[0] if point else None,
                lon=point[1] if point else None,
            )
    raise EidoRefused(
        ("locationComponent",),
        "no location readable by value: send a PIDF-LO civic address or point in "
        "locationByValue, or locationDescriptionText (locations by reference are not fetched)",
    )


def e164(uri: str) -> str | None:
    """A ``tel:`` URI as an E.164 number, if it is one (North American 10 digits get +1)."""
    if not uri.lower().startswith("tel:"):
        return None
    number = uri[4:].split(";", 1)[0]
    digits = re.sub(r"\D", "", number)
    if number.strip().startswith("+"):
        candidate = "+" + digits
    elif len(digits) == 10:
        candidate = "+1" + digits
    elif len(digits) == 11 and digits.startswith("1"):
        candidate = "+" + digits
    else:
        return None
    return candidate if re.fullmatch(r"\+[1-9]\d{6,14}", candidate) else None


def caller_of(document: EidoDocument) -> Caller | None:
    for callback in document.callback_component or []:
        for uri in callback.call_back_information_uri or []:
            if phone := e164(uri):
                return Caller(phone=phone)
    return None


def call_from_eido(document: EidoDocument, jurisdiction: str = "default") -> CadCall:
    """The call a CAD's EIDO describes. Raises ``EidoRefused`` naming what is missing."""
    apco_type = incident_type(document)
    call = CallSubmission(
        narrative=narrative_of(document, apco_type),
        answers=answers_for(apco_type),
        location=location_of(document),
        caller=caller_of(document),
        source=CallSource.CAD,
        jurisdiction=jurisdiction,
    )
    note_ids = tuple(n.id for n in document.notes_component or [])
    return CadCall(call=call, apco_type=apco_type, note_ids=note_ids)


def new_notes(document: EidoDocument, seen: set[str]) -> list[str]:
    """The text of notes an update brings that an earlier EIDO did not."""
    return [
        text
        for note in document.notes_component or []
        if note.id not in seen and (text := note_text(note))
    ]


# --- out -----------------------------------------------------------------------------------


def apco_type_for(view: IncidentView, cad_type: str | None) -> tuple[str, str]:
    """(APCO incident type, internal text) for an incident, and which source decided it."""
    if view.triage is None:
        return (cad_type or UNTRIAGED_APCO), "not yet triaged"
    category = view.triage.category
    flags = set(view.triage.flags)
    if category == Category.SUICIDE_RISK and view.triage.priority == 1:
        # means at hand, an attempt or a ledge
        return CODES.export_escalations.suicide_attempt, category.value
    if category == Category.VIOLENCE and Flag.WEAPONS in flags:
        return CODES.export_escalations.violence_with_weapons, category.value
    return CATEGORY_TO_APCO[category][0], category.value


def _point_pidf(lat: float, lon: float) -> str:
    return (
        '<presence xmlns="urn:ietf:params:xml:ns:pidf" '
        'xmlns:gp="urn:ietf:params:xml:ns:pidf:geopriv10" '
        'xmlns:gml="http://www.opengis.net/gml" entity="pres:incident@corespond">'
        '<tuple id="incident"><status><gp:geopriv><gp:location-info>'
        f'<gml:Point srsName="urn:ogc:def:crs:EPSG::4326"><gml:pos>{lat} {lon}</gml:pos>'
        "</gml:Point></gp:location-info></gp:geopriv></status></tuple></presence>"
    )


@dataclass(frozen=True)
class Issuer:
    """Who issues the EIDO: corespond's agency id (a domain name) and functional element id."""

    agency_id: str
    element_id: str


def eido_from_incident(
    view: IncidentView,
    *,
    eido_id: str,
    issuer: Issuer,
    cad_type: str | None,
    entitled: bool,
    disposition_code: str | None = None,
) -> EidoDocument:
    """The incident as an EIDO. ``entitled``: the reader may see the caller and the narrative.

    ``disposition_code``: the APCO code chosen at close, sent instead of the mapped one.
    """
    stamp = view.updated_at
    me = Reference(ref=issuer.agency_id)

    def prologue(suffix: str) -> dict[str, Any]:
        return {
            "$id": f"{eido_id}#{suffix}",
            "lastUpdateTimeStamp": stamp,
            "updatedByAgencyReference": me,
        }

    notes = _notes(view, entitled, prologue)
    location_ids: list[Reference] = []
    locations: list[EidoLocation] = []
    if view.location is not None:
        place = view.location
        loc = EidoLocation.model_validate(
            {
                **prologue("location"),
                "locationTypeDescriptionRegistryText": "Incident",
                "locationByValue": _point_pidf(place.lat, place.lon)
                if place.has_point() and place.lat is not None and place.lon is not None
                else None,
                "locationDescriptionText": place.address,
            }
        )
        locations.append(loc)
        location_ids.append(Reference(ref=loc.id))
    resources = [
        EmergencyResource.model_validate(
            {
                **prologue(f"unit-{a.unit_id}"),
                "primaryUnitStatusRegistryText": UNIT_STATUS[a.status],
                "emergencyResourceTypeCommonRegistryText": RESOURCE_TYPE[a.role],
                "emergencyResourceTypeInternalText": a.role.value,
                "emergencyResourceName": a.call_sign,
                "resourceAttributeRegistryText": [],
                "secondaryUnitStatusRegistryText": [],
                "unitStatusInternal": [a.status.value],
                "agentReference": [],
                "eta": (a.offered_at + timedelta(seconds=a.eta_seconds))
                if a.eta_seconds is not None and a.status in (A.OFFERED, A.ACCEPTED, A.EN_ROUTE)
                else None,
            }
        )
        for a in view.assignments
        if a.status not in NOT_SENT
    ]
    dispositions = None
    if view.disposition is not None:
        code = disposition_code or DISPOSITION_TO_APCO[view.disposition][0]
        dispositions = [
            Disposition.model_validate(
                {
                    **prologue("disposition"),
                    "dispositionCommonRegistryCode": code,
                    "dispositionPrimaryIndicator": True,
                    "dispositionDescriptionText": view.disposition.value,
                }
            )
        ]
    apco, internal = apco_type_for(view, cad_type)
    incident = Incident.model_validate(
        {
            **prologue("incident"),
            "incidentTypeCommonRegistryText": apco,
            "incidentTypeInternalText": internal,
            "incidentStatusCommonRegistryText": [INCIDENT_STATUS[view.status]],
            "incidentStatusInternalText": [view.status.value],
            "internalIncidentId": view.id,
            "incidentCommonPriorityNumber": view.triage.priority if view.triage else None,
            "locationReference": location_ids or None,
            "notesReference": [Reference(ref=n.id) for n in notes] or None,
            "dispositionComponent": dispositions,
        }
    )
    calls, callbacks = _call(view, entitled, prologue, location_ids)
    dispatches = (
        [
            Dispatch.model_validate(
                {
                    **prologue("dispatch"),
                    "agencyReference": me,
                    "emergencyResourceReference": [Reference(ref=r.id) for r in resources],
                }
            )
        ]
        if resources
        else None
    )
    return EidoDocument.model_validate(
        {
            "$id": eido_id,
            "lastUpdateTimeStamp": stamp,
            "updatedByAgencyReference": me,
            "eidoVersion": "1.0",
            "issuingElementIdentification": issuer.element_id,
            "agencyComponent": [
                Agency.model_validate(
                    {
                        "$id": issuer.agency_id,
                        "lastUpdateTimeStamp": stamp,
                        "updatedByAgencyReference": me,
                        "agencyRoleDescriptionRegistryText": ["Dispatching"],
                        "agencyType": ["mental_health"],
                    }
                )
            ],
            "incidentComponent": incident,
            "callComponent": calls,
            "callbackComponent": callbacks,
            "dispatchComponent": dispatches,
            "emergencyResourceComponent": resources or None,
            "notesComponent": notes or None,
            "locationComponent": locations or None,
        }
    )


def _notes(view: IncidentView, entitled: bool, prologue: Any) -> list[Notes]:
    texts: list[str] = []
    if entitled:
        if view.narrative:
            texts.append(view.narrative)
        texts += [
            f"{entry.at.isoformat()} {entry.summary}"
            for entry in view.timeline
            if not entry.kind.startswith("notification.")
        ]
    else:
        # Written here from structured facts: never a person's free text.
        texts.append(f"{view.received_at.isoformat()} received by corespond as {view.code}")
        if view.triage is not None:
            texts.append(
                f"triaged priority {view.triage.priority}, sending "
                + ", ".join(r.value for r in view.triage.roles)
            )
        if view.disposition is not None and view.closed_at is not None:
            texts.append(f"{view.closed_at.isoformat()} closed: {view.disposition.value}")
    return [
        Notes.model_validate({**prologue(f"note-{i}"), "notesActionComments": html.escape(text)})
        for i, text in enumerate(texts)
    ]


def _call(
    view: IncidentView, entitled: bool, prologue: Any, locations: list[Reference]
) -> tuple[list[Call] | None, list[Callback] | None]:
    callbacks = None
    if entitled and view.caller is not None and view.caller.phone:
        callbacks = [
            Callback.model_validate(
                {**prologue("callback"), "callBackInformationUri": [f"tel:{view.caller.phone}"]}
            )
        ]
    call = Call.model_validate(
        {
            **prologue("call"),
            "callStateRegistryText": "callEnd"
            if view.status == IncidentStatus.CLOSED
            else "callAnswered",
            "standardPrimaryCallType": "emergency"
            if view.source in (CallSource.NINE_ONE_ONE, CallSource.CAD)
            else "nonEmergency",
            "direction": "incoming",
            "callStartTimestamp": view.received_at,
            "callBackReference": Reference(ref=callbacks[0].id) if callbacks else None,
            "locationReference": locations or None,
        }
    )
    return [call], callbacks


def outcome_code(disposition: Outcome) -> str:
    return DISPOSITION_TO_APCO[disposition][0]


def is_after(new: datetime, old: datetime | None) -> bool:
    return old is None or new > old
