"""The provider directory's shape (close to Open Referral HSDS) and reading it from JSON.

One entry is one service of one organisation at one location, with its
opening hours and its on-call contact. A file is either today's list of entries
or an HSDS 3.0 document (``domain/hsds.py``; told apart by its shape). It is
checked whole: every bad entry is reported by number (or HSDS path) and field,
and nothing is written if any is bad.
"""

import json
from datetime import time
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)

from schemas.calls import E164, Latitude, Longitude
from schemas.text import ONE_LINE
from schemas.vocabulary import HandoffService
from services.dispatch.domain import hsds

Day = Annotated[str, StringConstraints(pattern=r"^(mon|tue|wed|thu|fri|sat|sun)$")]
ClockTime = Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$")]


def _whole_number(value: object) -> object:
    """JSON's 3 and 3.0 are the same integer; true and "3" are not integers at all."""
    if isinstance(value, bool | str):
        raise ValueError("a whole number")
    return value


# Pydantic's lax mode would read `false` as 0 places free.
# Bounded so that no number a database column cannot hold (2**63) gets as far as one.
MAX_CAPACITY = 100_000
Capacity = Annotated[int, Field(ge=0, le=MAX_CAPACITY), BeforeValidator(_whole_number)]


class ServiceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(min_length=1, max_length=120), ONE_LINE]
    type: HandoffService


class LocationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    address: Annotated[str, StringConstraints(max_length=300), ONE_LINE] | None = None
    lat: Latitude | None = None
    lon: Longitude | None = None


class OpeningHours(BaseModel):
    model_config = ConfigDict(extra="forbid")

    days: Annotated[list[Day], Field(min_length=1)]
    opens: ClockTime
    closes: ClockTime

    @field_validator("opens", "closes")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        try:
            time.fromisoformat(value)
        except ValueError as exc:
            raise ValueError("a time of day like 08:00") from exc
        return value


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(max_length=120), ONE_LINE] | None = None
    phone: E164


class ProviderIn(BaseModel):
    """One service of one organisation, as ``POST /v1/providers`` and the import take it."""

    model_config = ConfigDict(extra="forbid")

    organization: Annotated[str, StringConstraints(min_length=1, max_length=120), ONE_LINE]
    service: ServiceIn
    location: LocationIn = LocationIn()
    schedule: list[OpeningHours] = Field(
        default_factory=list, description="empty means open around the clock"
    )
    timezone: Annotated[str, StringConstraints(max_length=64), ONE_LINE] = "America/Denver"
    capacity: Capacity | None = None
    contact: ContactIn
    # The number the public calls (HSDS phone), apart from the on-call contact.
    public_phone: (
        Annotated[str, StringConstraints(min_length=3, max_length=32), ONE_LINE] | None
    ) = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


class ProviderFileError(ValueError):
    """A directory file that cannot be used; lists every problem by entry and field."""


def read_providers(path: Path) -> list[ProviderIn]:
    try:
        raw = json.loads(path.read_text())
    except OSError as exc:
        raise ProviderFileError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise ProviderFileError(f"{path}: not valid JSON: {exc}") from exc
    if hsds.looks_like_hsds(raw):
        return _read_hsds(path, raw)
    if not isinstance(raw, list) or not raw:
        raise ProviderFileError(f"{path}: expected a non-empty list of provider services")
    entries, problems = [], []
    for number, entry in enumerate(raw, start=1):
        try:
            entries.append(ProviderIn.model_validate(entry))
        except ValidationError as exc:
            for err in exc.errors():
                where = ".".join(str(p) for p in err["loc"]) or "(entry)"
                problems.append(f"{path}: entry {number}: {where}: {err['msg']}")
    if problems:
        raise ProviderFileError("\n".join(problems))
    return entries


def _read_hsds(path: Path, document: object) -> list[ProviderIn]:
    """An HSDS 3.0 document: its own rules first, then each service as a directory entry,
    every problem named by its path in the document."""
    try:
        read = hsds.read_document(document)
    except hsds.HsdsError as exc:
        raise ProviderFileError(
            "\n".join(f"{path}: HSDS {where}: {message}" for where, message in exc.problems)
        ) from exc
    entries, problems = [], []
    for entry in read:
        try:
            entries.append(ProviderIn.model_validate(entry.fields))
        except ValidationError as exc:
            for err in exc.errors():
                field = ".".join(str(p) for p in err["loc"])
                where = _hsds_path(entry.paths, field)
                problems.append(f"{path}: HSDS {where}: {err['msg']}")
    if problems:
        raise ProviderFileError("\n".join(problems))
    return entries


def _hsds_path(paths: dict[str, str], field: str) -> str:
    """Where a directory field came from (``contact.phone``: ``...x-corespond.on_call.phone``)."""
    parts = field.split(".")
    for cut in range(len(parts), 0, -1):
        known = paths.get(".".join(parts[:cut]))
        if known is not None:
            return ".".join([known, *parts[cut:]])
    service = paths.get("service.name", "").removesuffix("name").rstrip(".")
    return f"{service}.{field}" if service else field
