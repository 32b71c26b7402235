"""Offline geocoding: an address as a call-taker types it, matched to imported address points.

Pure functions over plain data; the database and the HTTP geocoder are adapters.

1. **Normalise** both sides the same way: lower case, punctuation dropped,
   street types and directions in their USPS short form (``Street``/``St.`` →
   ``st``, ``Avenue`` → ``ave``, ``North`` → ``n``), ordinals as numbers
   (``First`` → ``1st``). "Saint" also becomes ``st``: harmless, since both
   sides read it alike.
2. **Parse** ``"1437 Bannock St Apt 4, Denver, CO 80202"`` into a house number,
   a street and a city (the unit, state and postcode do not place a building).
3. **Match**, most certain first: the exact number on the exact street (in the
   city, when one is given); else the street found by fuzzy matching
   (rapidfuzz, edit distance on the normalised names: "Banock Stret"); on the
   street, the same number, else a point interpolated between the nearest
   numbers on the same side (same parity), else the nearest number, else the
   middle of the street.

Every result carries a confidence from 0 to 1, lowered for a fuzzy street, an
interpolated or nearest number, a city that did not match, or an ambiguous
street; a dispatcher sees it beside the point and can pin the right place.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from statistics import median_low
from typing import Protocol

from rapidfuzz import fuzz, process

SOURCE_ADDRESS_POINTS = "address_points"
SOURCE_ONLINE = "online"
SOURCE_INTAKE = "intake"
SOURCE_PIN = "pin"

# Street types and directions (USPS Publication 28 short forms); ordinal words.
_WORDS = {
    "street": "st",
    "str": "st",
    "saint": "st",
    "avenue": "ave",
    "av": "ave",
    "boulevard": "blvd",
    "boul": "blvd",
    "road": "rd",
    "drive": "dr",
    "lane": "ln",
    "court": "ct",
    "place": "pl",
    "parkway": "pkwy",
    "pky": "pkwy",
    "highway": "hwy",
    "circle": "cir",
    "terrace": "ter",
    "trail": "trl",
    "square": "sq",
    "alley": "aly",
    "expressway": "expy",
    "freeway": "fwy",
    "crossing": "xing",
    "heights": "hts",
    "mount": "mt",
    "mountain": "mtn",
    "fort": "ft",
    "north": "n",
    "south": "s",
    "east": "e",
    "west": "w",
    "northeast": "ne",
    "northwest": "nw",
    "southeast": "se",
    "southwest": "sw",
    "first": "1st",
    "second": "2nd",
    "third": "3rd",
    "fourth": "4th",
    "fifth": "5th",
    "sixth": "6th",
    "seventh": "7th",
    "eighth": "8th",
    "ninth": "9th",
    "tenth": "10th",
}
DIRECTIONS = frozenset({"n", "s", "e", "w", "ne", "nw", "se", "sw"})
STREET_TYPES = frozenset(
    {"st", "ave", "blvd", "rd", "dr", "ln", "ct", "pl", "pkwy", "hwy", "cir", "ter", "trl"}
    | {"sq", "aly", "expy", "fwy", "xing", "way", "loop", "row", "walk", "plz"}
)
# Words that start the unit part of an address ("Apt 4", "#4"): not part of the street.
_UNIT_WORDS = frozenset(
    {"apt", "apartment", "unit", "suite", "ste", "fl", "floor", "rm", "room", "bldg", "lot", "trlr"}
)
_NUMBER = re.compile(r"^(\d+)[a-z]?(?:-\d+[a-z]?)?$")
_STATE_OR_ZIP = re.compile(r"^(?:[a-z]{2}|\d{5}(?:-\d{4})?)$")
_DROP = re.compile("['\u2019`.]")  # O'Neil → oneil, St. → st
_SPLIT = re.compile(r"[^\w#]+")

# How sure each way of placing a point is, before the street's own match score.
EXACT = 1.0
INTERPOLATED = 0.8
NEAREST_CLOSE = 0.6  # a number within NEAR_NUMBERS on the same street
NEAREST_FAR = 0.4
STREET_ONLY = 0.35
NEAR_NUMBERS = 20
OTHER_CITY = 0.85  # a city was given and no point on the street is in it
AMBIGUOUS = 0.75  # several streets (or cities) fit equally well
# A fuzzy street below this similarity (0-100) is not the same street.
MIN_STREET_SCORE = 80.0


@dataclass(frozen=True)
class AddressQuery:
    """An address as parsed: the house number (as written and its value), street and city keys."""

    number: str | None
    number_value: int | None
    street: str
    city: str | None = None


@dataclass(frozen=True)
class AddressPoint:
    """One imported address point, in matching form."""

    number: str
    number_value: int | None
    street: str
    city: str | None
    lat: float
    lon: float
    label: str = ""


@dataclass(frozen=True)
class Geocode:
    """Where an address was placed, how (``method``), from what source, and how sure."""

    lat: float
    lon: float
    confidence: float
    source: str
    method: str
    matched: str = ""

    def as_place(self) -> dict[str, object]:
        return {
            "lat": self.lat,
            "lon": self.lon,
            "source": self.source,
            "confidence": self.confidence,
            "method": self.method,
            "matched": self.matched,
        }


class Geocoder(Protocol):
    """Anything that places an address: the address points, an online service, or both."""

    async def geocode(self, address: str) -> Geocode | None: ...


def _tokens(text: str) -> list[str]:
    return [t for t in _SPLIT.split(_DROP.sub("", text.lower())) if t]


def normalise_street(text: str) -> str:
    """The matching form of a street name: ``"N. Bannock Street"`` → ``"n bannock st"``."""
    return " ".join(_WORDS.get(t, t) for t in _tokens(text))


def normalise_city(text: str | None) -> str | None:
    """The matching form of a city name (``"St. Paul"`` → ``"st paul"``); None if empty."""
    key = normalise_street(text or "")
    return key or None


def house_number_value(number: str) -> int | None:
    """The leading integer of a house number: ``"1437A"`` → 1437, ``"12-14"`` → 12."""
    match = _NUMBER.match(number.strip().lower())
    return int(match.group(1)) if match else None


def parse_address(text: str) -> AddressQuery | None:
    """Number, street and city of a typed address; None when there is no street in it."""
    parts = [p for p in (part.strip() for part in text.split(",")) if p]
    if not parts:
        return None
    words = _tokens(parts[0])
    number = None
    if words and _NUMBER.match(words[0]):
        number = words.pop(0)
    street_words: list[str] = []
    for word in words:
        if word in _UNIT_WORDS or word.startswith("#"):
            break  # "Apt 4", "#4": the rest of this part is the unit
        street_words.append(_WORDS.get(word, word))
    city = None
    for part in parts[1:]:
        tokens = _tokens(part)
        if not tokens or tokens[0] in _UNIT_WORDS or tokens[0].startswith("#"):
            continue  # "Apt 4" after a comma
        # "Denver CO 80202": the state and the postcode do not name the city.
        while len(tokens) > 1 and _STATE_OR_ZIP.match(tokens[-1]):
            tokens.pop()
        if all(_STATE_OR_ZIP.match(t) for t in tokens):
            continue
        city = " ".join(_WORDS.get(t, t) for t in tokens)
        break
    if city is None:
        # No comma: "1437 Bannock St Denver" reads the words after the street type as a city.
        for index, word in enumerate(street_words[:-1]):
            rest = street_words[index + 1 :]
            # "Main St N" is a street with a direction after it, not a town called N.
            if word in STREET_TYPES and index > 0 and not set(rest) <= DIRECTIONS:
                street_words, city = street_words[: index + 1], " ".join(rest)
                break
    if not street_words:
        return None
    value = house_number_value(number) if number else None
    return AddressQuery(number, value, " ".join(street_words), city)


def similar_streets(
    query: AddressQuery, streets: Iterable[str], limit: int = 3
) -> list[tuple[str, float]]:
    """The known streets most like the query's, best first, each with a 0-1 similarity;
    only those within a few points of the best (so an ambiguous match shows as one)."""
    found = process.extract(
        query.street,
        list(streets),
        scorer=fuzz.token_sort_ratio,
        limit=limit,
        score_cutoff=MIN_STREET_SCORE,
    )
    if not found:
        return []
    best = found[0][1]
    return [(street, score / 100) for street, score, _ in found if score >= best - 2]


def locate(
    query: AddressQuery, points: Sequence[AddressPoint], street_score: float = 1.0
) -> Geocode | None:
    """Place the query on one street's points (all of the same street key)."""
    if not points:
        return None
    factor = street_score
    if query.city is not None:
        in_city = [p for p in points if p.city == query.city]
        if in_city:
            points = in_city
        else:
            factor *= OTHER_CITY
    if query.number is not None:
        exact = [p for p in points if p.number.lower() == query.number.lower()]
        if exact:
            spread = {p.city for p in exact}
            if len(spread) > 1:
                factor *= AMBIGUOUS  # the same number in two towns and no town given
            return _geocode(exact[0], EXACT * factor, "exact")
    if query.number_value is not None:
        found = _between(query.number_value, points)
        if found is not None:
            lat, lon, label = found
            confidence = _round(INTERPOLATED * factor)
            return Geocode(lat, lon, confidence, SOURCE_ADDRESS_POINTS, "interpolated", label)
        nearest = _nearest(query.number_value, points)
        if nearest is not None:
            assert nearest.number_value is not None
            gap = abs(nearest.number_value - query.number_value)
            how = NEAREST_CLOSE if gap <= NEAR_NUMBERS else NEAREST_FAR
            return _geocode(nearest, how * factor, "nearest number")
    middle = _middle(points)
    return Geocode(
        middle.lat,
        middle.lon,
        _round(STREET_ONLY * factor),
        SOURCE_ADDRESS_POINTS,
        "street",
        middle.street,
    )


def best_of(results: Iterable[Geocode | None], ambiguous: bool = False) -> Geocode | None:
    """The most certain of several placements; lowered when several streets fit alike."""
    found = [r for r in results if r is not None]
    if not found:
        return None
    best = max(found, key=lambda g: g.confidence)
    if ambiguous and len(found) > 1:
        return Geocode(
            best.lat,
            best.lon,
            _round(best.confidence * AMBIGUOUS),
            best.source,
            best.method,
            best.matched,
        )
    return best


def _geocode(point: AddressPoint, confidence: float, method: str) -> Geocode:
    return Geocode(
        point.lat,
        point.lon,
        _round(confidence),
        SOURCE_ADDRESS_POINTS,
        method,
        point.label or f"{point.number} {point.street}",
    )


def _round(confidence: float) -> float:
    return round(max(0.0, min(1.0, confidence)), 2)


def _between(number: int, points: Sequence[AddressPoint]) -> tuple[float, float, str] | None:
    """A point between the nearest lower and higher numbers on the same side of the street."""
    side = [p for p in points if p.number_value is not None and p.number_value % 2 == number % 2]
    below = [p for p in side if p.number_value is not None and p.number_value < number]
    above = [p for p in side if p.number_value is not None and p.number_value > number]
    if not below or not above:
        return None
    low = max(below, key=lambda p: p.number_value or 0)
    high = min(above, key=lambda p: p.number_value or 0)
    assert low.number_value is not None
    assert high.number_value is not None
    share = (number - low.number_value) / (high.number_value - low.number_value)
    lat = low.lat + (high.lat - low.lat) * share
    lon = low.lon + (high.lon - low.lon) * share
    return lat, lon, f"between {low.number} and {high.number} {low.street}"


def _nearest(number: int, points: Sequence[AddressPoint]) -> AddressPoint | None:
    numbered = [p for p in points if p.number_value is not None]
    if not numbered:
        return None
    return min(numbered, key=lambda p: (abs((p.number_value or 0) - number), p.number))


def _middle(points: Sequence[AddressPoint]) -> AddressPoint:
    """A real point halfway along the street (by house number), not an average off the road."""
    numbered = sorted(
        (p for p in points if p.number_value is not None), key=lambda p: p.number_value or 0
    )
    if not numbered:
        return points[0]
    middle_value = median_low([p.number_value or 0 for p in numbered])
    return next(p for p in numbered if p.number_value == middle_value)
