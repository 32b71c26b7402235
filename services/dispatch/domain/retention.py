"""What an incident keeps after the retention purge: the statistics, never the person.

A program reports on when calls came and closed, where from (source,
jurisdiction, a coarse area), how urgent they were, who was sent, what came
of it and how fast. It does not need what the caller said, their phone, the
protocol answers, the exact place, or anything a person typed. These pure
functions say what is left of each part of an incident.
"""

from datetime import datetime, timedelta
from typing import Any

from services.dispatch.domain.places import used_point

# Two decimals of a degree: about 1.1 km north-south and 0.85 km east-west at
# 40°. Enough to map demand by neighbourhood (where to base a team), too coarse
# to point at a home in a town or city. In very sparse country a cell may hold
# a handful of houses; a program there may prefer fewer decimals.
AREA_DECIMALS = 2
PURGED_NOTE = "(purged)"

# Timeline lines written by the system from fixed templates and ids only:
# kept as they are.
_TEMPLATED_KINDS = (
    "call.received",
    "call.triaged",
    "recommendation.",
    "notification.",
    "reply.ignored",
    "handoff.",
    "follow_up.",
    "alert.",
    "telehealth.joined",
    "location.geocoded",
)


def retention_cutoff(now: datetime, retention_days: int) -> datetime:
    """Incidents closed before this are purged."""
    return now - timedelta(days=retention_days)


def coarse_area(places: dict[str, Any]) -> dict[str, Any]:
    """``{"area": {"lat", "lon"}}`` rounded from the point used, or nothing without a point."""
    _, lat, lon = used_point(places)
    if lat is None or lon is None:
        # Already coarse (purged before), or never had a point.
        return {"area": places["area"]} if "area" in places else {}
    return {
        "area": {
            "lat": round(lat, AREA_DECIMALS),
            "lon": round(lon, AREA_DECIMALS),
            "precision_deg": 10**-AREA_DECIMALS,
        }
    }


def purged_summary(kind: str, summary: str, data: dict[str, Any]) -> str:
    """A timeline line with anything a person typed, or an exact place, taken out."""
    if kind.startswith(_TEMPLATED_KINDS):
        return summary
    if kind == "incident.closed":
        disposition = str(data.get("disposition", "")).replace("_", " ")
        return f"closed: {disposition}".rstrip(": ")
    if kind == "location.pinned":
        return f"dispatcher pinned the location {PURGED_NOTE}"
    if kind.startswith("assignment."):
        # "<call sign> (<role>) <status>[: reason]" and "<call sign> offered as
        # <role>, ETA ..., answer within ... s[ (override: reason)]": the reason
        # may be typed by a person, the rest is fixed.
        kept = summary.split(" (override: ", 1)[0]
        if kind != "assignment.offered":
            kept = kept.split(": ", 1)[0]
        return kept if kept == summary else f"{kept} {PURGED_NOTE}"
    return f"{kind} {PURGED_NOTE}"
