"""Where an incident is: several sources kept apart, and the rule for which one is used.

The caller's reported address, the point it was geocoded to, and a
dispatcher's pin are each stored with their time; none overwrites another.
A pin wins (a dispatcher placed it on purpose), then the geocoded point.
"""

from typing import Any

PREFERENCE = ("pin", "geocoded")


def used_point(places: dict[str, Any]) -> tuple[str | None, float | None, float | None]:
    """(source, lat, lon) of the point ETAs are measured to; (None, None, None) if none."""
    for source in PREFERENCE:
        point = places.get(source)
        if point and point.get("lat") is not None and point.get("lon") is not None:
            return source, float(point["lat"]), float(point["lon"])
    return None, None, None


def used_place(places: dict[str, Any]) -> tuple[str | None, float | None]:
    """How the point ETAs are measured to was found (``pin``, ``address_points``, ``online``,
    ``intake``) and how sure that is (0-1); (None, None) without a point."""
    source, _lat, _lon = used_point(places)
    if source is None:
        return None, None
    place = places[source]
    confidence = place.get("confidence", 1.0 if source == "pin" else None)
    return str(place.get("source", source)), confidence
