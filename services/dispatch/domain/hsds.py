"""The provider directory as Open Referral HSDS 3.0 (Human Services Data Specification):
reading an HSDS document into directory entries, and writing the directory as HSDS.

HSDS 3.0's objects used (openreferral/specification, tag v3.0, ``schema/*.json``):
``service`` (id, name, status, description, phones, schedules, service_at_locations,
organization), ``organization`` (id, name, description), ``service_at_location``
(id, service_id, location_id, location), ``location`` (id, location_type, name,
latitude, longitude, addresses), ``address`` (id, address_1, address_2, city,
state_province, postal_code, country, address_type), ``phone`` (id, number) and
``schedule`` (id, freq WEEKLY, byday, opens_at, closes_at). A document is the 3.0
API's page of services (``{"contents": [...]}``), a list of services, or one service.

What HSDS has no field for is a named corespond extension on the service,
``x-corespond``: ``service_type`` (the warm-handoff service: mat_induction, detox, ...),
``capacity`` (places free now), ``timezone`` (IANA; HSDS's schedule ``timezone`` is a bare
UTC offset that cannot follow daylight saving) and ``on_call`` (``name``, ``phone``: the
staff number corespond texts). The export leaves the on-call phone out, as
``GET /v1/providers`` does: it is a staff number, not a directory listing.

Entries come out in the shape of today's directory file (``ProviderIn``), each with a
map from its fields back to HSDS paths, so a problem is reported where the HSDS
document has it.
"""

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from services.dispatch.domain.fhir_mapping import SERVICE_DISPLAY, organization_id

SPEC_VERSION = "3.0"
EXTENSION = "x-corespond"
DAY_CODES = {
    "MO": "mon",
    "TU": "tue",
    "WE": "wed",
    "TH": "thu",
    "FR": "fri",
    "SA": "sat",
    "SU": "sun",
}
CODE_OF_DAY = {day: code for code, day in DAY_CODES.items()}
_NAMESPACE = uuid.UUID("0b0a6f3a-3a4f-4f47-9a1b-6d2f4c8e5a10")
# "1437 Bannock St, Denver, CO 80202" (and ", US"): what the import writes back out.
_ADDRESS = re.compile(
    r"^(?P<line>[^,]+(?:,[^,]+)*?),\s*(?P<city>[^,]+),\s*(?P<state>[A-Za-z]{2})\s+"
    r"(?P<postal>[0-9A-Za-z -]{3,10})(?:,\s*(?P<country>[A-Z]{2}))?$"
)


class HsdsError(ValueError):
    """An HSDS document corespond cannot use; ``problems`` are (HSDS path, message)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{path}: {message}" for path, message in problems))
        self.problems = problems


@dataclass(frozen=True)
class Entry:
    """One directory entry read from HSDS: the plain fields, and where each came from."""

    fields: dict[str, Any]
    paths: dict[str, str]  # "contact.phone" -> "contents[0].x-corespond.on_call.phone"


@dataclass(frozen=True)
class ListedService:
    """One service of the directory as corespond keeps it (what the export is made of)."""

    id: str
    organization: str
    service_type: str
    service_name: str
    address: str | None
    lat: float | None
    lon: float | None
    timezone: str
    schedule: Sequence[dict[str, Any]]
    capacity: int | None
    contact_name: str | None
    public_phone: str | None
    active: bool


def looks_like_hsds(document: object) -> bool:
    """HSDS has services with ``id``, ``name`` and ``status``; today's file has ``service``."""
    if isinstance(document, dict):
        return "contents" in document or {"id", "name", "status"} <= set(document)
    if isinstance(document, list) and document and isinstance(document[0], dict):
        return "service" not in document[0] and {"id", "name"} <= set(document[0])
    return False


def _services(document: object) -> tuple[str, list[Any]]:
    if isinstance(document, dict) and "contents" in document:
        contents = document["contents"]
        if not isinstance(contents, list):
            raise HsdsError([("contents", "must be a list of services")])
        return "contents", contents
    if isinstance(document, dict):
        return "", [document]
    if isinstance(document, list):
        return "", document
    raise HsdsError([("(document)", "expected an HSDS service, a list of them or a page")])


def _at(prefix: str, index: int | None, path: str) -> str:
    head = f"{prefix}[{index}]" if prefix else (f"[{index}]" if index is not None else "")
    return f"{head}.{path}" if head and path else head or path


def _text(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


class _Reader:
    """Reads one HSDS service, collecting every problem rather than stopping at the first."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.problems: list[tuple[str, str]] = []

    def path(self, path: str) -> str:
        return f"{self.where}.{path}" if self.where else path

    def need(self, node: dict[str, Any], key: str, path: str) -> Any:
        if node.get(key) in (None, ""):
            self.problems.append((self.path(path), "required by HSDS 3.0"))
        return node.get(key)

    def obj(self, node: object, path: str) -> dict[str, Any]:
        if isinstance(node, dict):
            return node
        if node is not None:
            self.problems.append((self.path(path), "must be an object"))
        return {}

    def items(self, node: dict[str, Any], key: str, path: str) -> list[dict[str, Any]]:
        value = node.get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.problems.append((self.path(path), "must be a list of objects"))
            return []
        return value


def _uuid(reader: _Reader, node: dict[str, Any], path: str) -> None:
    value = reader.need(node, "id", path)
    if value is not None:
        try:
            uuid.UUID(str(value))
        except ValueError:
            reader.problems.append((reader.path(path), "must be a UUID (HSDS 3.0 ids are)"))


def _schedule(reader: _Reader, node: dict[str, Any], path: str) -> dict[str, Any] | None:
    _uuid(reader, node, f"{path}.id")
    if node.get("freq") != "WEEKLY":
        reader.problems.append((reader.path(f"{path}.freq"), "only WEEKLY schedules are used"))
        return None
    days = [d.strip().upper() for d in str(node.get("byday") or "").split(",") if d.strip()]
    days_ok = bool(days) and all(d in DAY_CODES for d in days)
    if not days_ok:
        reader.problems.append(
            (reader.path(f"{path}.byday"), "comma-separated MO, TU, WE, TH, FR, SA, SU")
        )
    hours = {}
    for key in ("opens_at", "closes_at"):
        value = _text(node.get(key))
        if value is None or not re.fullmatch(r"\d{2}:\d{2}(:\d{2})?", value):
            # An offset ("09:00-05:00") is refused rather than guessed across daylight saving.
            reader.problems.append(
                (reader.path(f"{path}.{key}"), "a local time like 08:00 (zone: x-corespond)")
            )
        hours[key] = value
    if None in hours.values() or not days_ok:
        return None
    return {
        "days": [DAY_CODES[d] for d in days],
        "opens": hours["opens_at"],
        "closes": hours["closes_at"],
    }


def _address_text(address: dict[str, Any]) -> str:
    line = ", ".join(
        t for t in (_text(address.get("address_1")), _text(address.get("address_2"))) if t
    )
    place = " ".join(
        t for t in (_text(address.get("state_province")), _text(address.get("postal_code"))) if t
    )
    parts = [line, _text(address.get("city")), place, _text(address.get("country"))]
    return ", ".join(p for p in parts if p)


def _read_service(service: object, where: str) -> Entry | list[tuple[str, str]]:
    reader = _Reader(where)
    node = reader.obj(service, "")
    if not node:
        return [(where or "(document)", "must be an HSDS service object")]
    _uuid(reader, node, "id")
    name = reader.need(node, "name", "name")
    status = reader.need(node, "status", "status")
    if status is not None and status not in ("active", "inactive", "defunct", "temporarily closed"):
        reader.problems.append(
            (reader.path("status"), "active, inactive, defunct or temporarily closed")
        )
    organization = reader.obj(node.get("organization"), "organization")
    if not organization:
        reader.problems.append(
            (reader.path("organization"), "the providing organization is required")
        )
    else:
        _uuid(reader, organization, "organization.id")
        reader.need(organization, "name", "organization.name")
        reader.need(organization, "description", "organization.description")
    extension = reader.obj(node.get(EXTENSION), EXTENSION)
    on_call = reader.obj(extension.get("on_call"), f"{EXTENSION}.on_call")
    paths = {
        "organization": "organization.name",
        "service.name": "name",
        "service.type": f"{EXTENSION}.service_type",
        "capacity": f"{EXTENSION}.capacity",
        "timezone": f"{EXTENSION}.timezone",
        "contact.name": f"{EXTENSION}.on_call.name",
        "contact.phone": f"{EXTENSION}.on_call.phone",
        "public_phone": "phones[0].number",
    }
    fields: dict[str, Any] = {
        "organization": organization.get("name"),
        "service": {"name": name, "type": extension.get("service_type")},
        "contact": {"phone": on_call.get("phone")},
    }
    if on_call.get("name") is not None:
        fields["contact"]["name"] = on_call["name"]
    for key in ("capacity", "timezone"):
        if extension.get(key) is not None:
            fields[key] = extension[key]
    phones = reader.items(node, "phones", "phones")
    for i, phone in enumerate(phones):
        _uuid(reader, phone, f"phones[{i}].id")
        reader.need(phone, "number", f"phones[{i}].number")
    if phones and phones[0].get("number") is not None:
        fields["public_phone"] = phones[0]["number"]
    schedule: list[dict[str, Any]] = []
    for i, item in enumerate(reader.items(node, "schedules", "schedules")):
        hours = _schedule(reader, item, f"schedules[{i}]")
        if hours is not None:
            paths.update(
                {
                    f"schedule.{len(schedule)}.days": f"schedules[{i}].byday",
                    f"schedule.{len(schedule)}.opens": f"schedules[{i}].opens_at",
                    f"schedule.{len(schedule)}.closes": f"schedules[{i}].closes_at",
                }
            )
            schedule.append(hours)
    fields["schedule"] = schedule
    places = reader.items(node, "service_at_locations", "service_at_locations")
    location: dict[str, Any] = {}
    for i, place in enumerate(places):
        _uuid(reader, place, f"service_at_locations[{i}].id")
        found = reader.obj(place.get("location"), f"service_at_locations[{i}].location")
        if found:
            _uuid(reader, found, f"service_at_locations[{i}].location.id")
            reader.need(found, "location_type", f"service_at_locations[{i}].location.location_type")
        if i == 0 and found:
            # The first location is where a handoff goes; HSDS allows more, corespond one.
            at = "service_at_locations[0].location"
            if found.get("latitude") is not None:
                location["lat"] = found["latitude"]
                paths["location.lat"] = f"{at}.latitude"
            if found.get("longitude") is not None:
                location["lon"] = found["longitude"]
                paths["location.lon"] = f"{at}.longitude"
            addresses = reader.items(found, "addresses", f"{at}.addresses")
            for j, address in enumerate(addresses):
                _uuid(reader, address, f"{at}.addresses[{j}].id")
                for key in (
                    "address_1",
                    "city",
                    "state_province",
                    "postal_code",
                    "country",
                    "address_type",
                ):
                    reader.need(address, key, f"{at}.addresses[{j}].{key}")
            if addresses:
                physical = [a for a in addresses if a.get("address_type") == "physical"]
                location["address"] = _address_text((physical or addresses)[0])
                paths["location.address"] = f"{at}.addresses[0]"
    if location:
        fields["location"] = location
    if reader.problems:
        return reader.problems
    return Entry(fields, {k: reader.path(v) for k, v in paths.items()})


def read_document(document: object) -> list[Entry]:
    """Every service of an HSDS document as a directory entry; all problems at once."""
    prefix, services = _services(document)
    if not services:
        raise HsdsError([(prefix or "(document)", "holds no services")])
    entries: list[Entry] = []
    problems: list[tuple[str, str]] = []
    for index, service in enumerate(services):
        where = _at(prefix, index if (prefix or isinstance(document, list)) else None, "")
        read = _read_service(service, where)
        if isinstance(read, Entry):
            entries.append(read)
        else:
            problems.extend(read)
    if problems:
        raise HsdsError(problems)
    return entries


def _id(*parts: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, "/".join(parts)))


def _service_id(provider_id: str) -> str:
    try:
        return str(uuid.UUID(provider_id))
    except ValueError:
        return _id("service", provider_id)


def _address(listed: ListedService, location_id: str) -> list[dict[str, Any]]:
    found = _ADDRESS.match(listed.address or "")
    if not found:
        return []
    return [
        {
            "id": _id("address", listed.id),
            "location_id": location_id,
            "address_1": found["line"].strip(),
            "city": found["city"].strip(),
            "state_province": found["state"].upper(),
            "postal_code": found["postal"].strip(),
            "country": found["country"] or "US",
            "address_type": "physical",
        }
    ]


def service(listed: ListedService) -> dict[str, Any]:
    """One directory entry as an HSDS 3.0 service, with its organization and location."""
    service_id = _service_id(listed.id)
    location_id = _id("location", listed.id)
    location: dict[str, Any] = {"id": location_id, "location_type": "physical"}
    if listed.address:
        location["name"] = listed.address
        addresses = _address(listed, location_id)
        if addresses:
            location["addresses"] = addresses
    if listed.lat is not None and listed.lon is not None:
        location["latitude"], location["longitude"] = listed.lat, listed.lon
    body: dict[str, Any] = {
        "id": service_id,
        "name": listed.service_name,
        "description": SERVICE_DISPLAY.get(listed.service_type, listed.service_type),
        "status": "active" if listed.active else "inactive",
        "organization": {
            "id": organization_id(listed.organization),
            "name": listed.organization,
            "description": f"{listed.organization}: treatment provider taking warm handoffs",
        },
        "service_at_locations": [
            {
                "id": _id("service_at_location", listed.id),
                "service_id": service_id,
                "location_id": location_id,
                "location": location,
            }
        ],
        "schedules": [
            {
                "id": _id("schedule", listed.id, str(i)),
                "service_id": service_id,
                "freq": "WEEKLY",
                "byday": ",".join(CODE_OF_DAY[d] for d in hours["days"]),
                "opens_at": hours["opens"],
                "closes_at": hours["closes"],
            }
            for i, hours in enumerate(listed.schedule)
        ],
        "phones": (
            [
                {
                    "id": _id("phone", listed.id),
                    "service_id": service_id,
                    "number": listed.public_phone,
                }
            ]
            if listed.public_phone
            else []
        ),
        EXTENSION: {
            "service_type": listed.service_type,
            "capacity": listed.capacity,
            "timezone": listed.timezone,
            "on_call": {"name": listed.contact_name},
        },
    }
    return body


def service_page(listed: Sequence[ListedService]) -> dict[str, Any]:
    """The whole directory as one page of HSDS 3.0's ``GET /services`` answer."""
    return {
        "total_items": len(listed),
        "total_pages": 1,
        "page_number": 1,
        "size": len(listed),
        "first_page": True,
        "last_page": True,
        "empty": not listed,
        "contents": [service(s) for s in listed],
    }
