"""Reading an address-point file (``corespond addresses import``): OpenAddresses CSV or GeoJSON.

- **CSV**, OpenAddresses' columns: ``LON,LAT,NUMBER,STREET,UNIT,CITY,DISTRICT,
  REGION,POSTCODE,ID,HASH`` (``LON``, ``LAT``, ``NUMBER`` and ``STREET`` required,
  the others may be missing or empty).
- **GeoJSON**: a ``FeatureCollection`` of ``Point`` features whose properties
  carry the same names in lower case (``number``, ``street``, ...), or
  OpenAddresses' own line-delimited form (one ``Feature`` per line).

The whole file is checked before anything is written: every problem is
reported by file, line and field (up to ``MAX_PROBLEMS`` of them), and a file
with any problem writes nothing.
"""

import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)

from schemas.text import ONE_LINE

MAX_PROBLEMS = 20
REQUIRED = ("LON", "LAT", "NUMBER", "STREET")
OPTIONAL = ("UNIT", "CITY", "DISTRICT", "REGION", "POSTCODE", "ID", "HASH")


def _trimmed(max_length: int, min_length: int = 0) -> StringConstraints:
    return StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length)


Number = Annotated[str, _trimmed(16, 1), ONE_LINE]
Street = Annotated[str, _trimmed(200, 1), ONE_LINE]
Short = Annotated[str, _trimmed(16), ONE_LINE]
Unit = Annotated[str, _trimmed(32), ONE_LINE]
Name = Annotated[str, _trimmed(100), ONE_LINE]
Key = Annotated[str, _trimmed(64), ONE_LINE]


class AddressPointIn(BaseModel):
    """One address point as a file gives it (field names: the file's, in lower case)."""

    model_config = ConfigDict(extra="ignore")

    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    number: Number
    street: Street
    unit: Unit | None = None
    city: Name | None = None
    district: Name | None = None
    region: Name | None = None
    postcode: Short | None = None
    id: Key | None = None
    hash: Key | None = None

    @field_validator("lon", "lat", mode="before")
    @classmethod
    def _a_number(cls, value: Any) -> Any:
        # true is not a longitude, and "" is a missing one.
        if isinstance(value, bool) or value in ("", None):
            raise ValueError("a number is required")
        return value

    @field_validator("unit", "city", "district", "region", "postcode", "id", "hash", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)  # a GeoJSON postcode or id given as a number
        return None if value == "" else value


class AddressFileError(ValueError):
    """A file that cannot be imported; names the file, line and field of each problem."""


@dataclass
class _Problems:
    path: Path
    found: list[str]
    more: int = 0

    def add(self, where: str, message: str) -> None:
        if len(self.found) < MAX_PROBLEMS:
            self.found.append(f"{self.path}: {where}: {message}")
        else:
            self.more += 1

    def raise_if_any(self) -> None:
        if self.found:
            tail = [f"... and {self.more} more"] if self.more else []
            raise AddressFileError("\n".join([*self.found, *tail]))


def read_address_points(path: Path) -> list[AddressPointIn]:
    """Every point of ``path`` (``.csv``, ``.geojson``/``.json``), or every problem."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise AddressFileError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise AddressFileError(f"{path}: not UTF-8 text: {exc.reason}") from exc
    problems = _Problems(path, [])
    if path.suffix.lower() == ".csv":
        points = _read_csv(text, problems)
    else:
        points = _read_geojson(text, problems)
    problems.raise_if_any()
    if not points:
        raise AddressFileError(f"{path}: no address points in the file")
    return points


def _validate(
    raw: dict[str, Any], where: str, problems: _Problems, name: Any
) -> AddressPointIn | None:
    try:
        return AddressPointIn.model_validate(raw)
    except ValidationError as exc:
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else "(row)"
            problems.add(f"{where}: {name(field)}", err["msg"])
        return None


def _read_csv(text: str, problems: _Problems) -> list[AddressPointIn]:
    reader = csv.DictReader(text.splitlines())
    header = [h.strip().upper() for h in reader.fieldnames or []]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        problems.add("line 1", f"missing column {', '.join(missing)} (OpenAddresses CSV)")
        return []
    reader.fieldnames = header
    points: list[AddressPointIn] = []
    for row in reader:
        if None in row:
            problems.add(f"line {reader.line_num}", "more cells than columns")
            continue
        raw = {k.lower(): v for k, v in row.items() if k in REQUIRED + OPTIONAL}
        point = _validate(raw, f"line {reader.line_num}", problems, str.upper)
        if point is not None:
            points.append(point)
    return points


def _read_geojson(text: str, problems: _Problems) -> list[AddressPointIn]:
    try:
        whole = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg != "Extra data":
            problems.add(f"line {exc.lineno}", f"not valid JSON: {exc.msg}")
            return []
        return _read_lines(text, problems)  # one Feature per line (OpenAddresses' own form)
    if not isinstance(whole, dict) or whole.get("type") not in ("FeatureCollection", "Feature"):
        problems.add("line 1", "expected a GeoJSON FeatureCollection of Point features")
        return []
    if whole["type"] == "Feature":
        return _read_lines(text, problems)
    features = whole.get("features")
    if not isinstance(features, list):
        problems.add("line 1", "features: expected a list of Point features")
        return []
    lines = _feature_lines(text, len(features))
    points = []
    for index, feature in enumerate(features):
        where = f"line {lines[index]}" if lines else f"feature {index + 1}"
        point = _feature(feature, where, problems)
        if point is not None:
            points.append(point)
    return points


def _read_lines(text: str, problems: _Problems) -> list[AddressPointIn]:
    points = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            feature = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.add(f"line {number}", f"not valid JSON: {exc.msg}")
            continue
        point = _feature(feature, f"line {number}", problems)
        if point is not None:
            points.append(point)
    return points


def _feature(feature: Any, where: str, problems: _Problems) -> AddressPointIn | None:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        problems.add(where, "expected a GeoJSON Feature")
        return None
    geometry = feature.get("geometry") or {}
    coordinates = geometry.get("coordinates") if isinstance(geometry, dict) else None
    if geometry.get("type") != "Point" or not isinstance(coordinates, list | tuple):
        problems.add(where, "geometry: expected a Point with coordinates [lon, lat]")
        return None
    if len(coordinates) < 2:
        problems.add(where, "geometry.coordinates: expected [lon, lat]")
        return None
    properties = feature.get("properties")
    if not isinstance(properties, dict):
        problems.add(where, "properties: expected an object")
        return None
    raw = {**properties, "lon": coordinates[0], "lat": coordinates[1]}

    def name(field: str) -> str:
        if field in ("lon", "lat"):
            return f"geometry.coordinates ({field})"
        return f"properties.{field}"

    return _validate(raw, where, problems, name)


_FEATURES = re.compile(r'"features"\s*:\s*\[')


def _feature_lines(text: str, count: int) -> list[int]:
    """The line each feature of a FeatureCollection starts on, so problems name lines; empty
    when the layout is not the usual one (then problems name the feature's number)."""
    found = _FEATURES.search(text)
    if found is None:
        return []
    decoder = json.JSONDecoder()
    at, lines, line = found.end(), [], text.count("\n", 0, found.end()) + 1
    last = at
    for _ in range(count):
        while at < len(text) and text[at] in " \t\r\n,":
            at += 1
        try:
            _value, end = decoder.raw_decode(text, at)
        except json.JSONDecodeError:
            return []
        line += text.count("\n", last, at)
        lines.append(line)
        last, at = at, end
    return lines
