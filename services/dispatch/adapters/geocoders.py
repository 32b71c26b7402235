"""Geocoders behind one call: the imported address points first, an online geocoder if configured.

``NominatimGeocoder`` asks a Nominatim-compatible ``/search`` endpoint (the
jurisdiction's own, or a hosted one) and is off unless
``CORESPOND_GEOCODER_URL`` is set: a caller's address leaves the machine only
when an operator chose so. It is asked when the address points found nothing
or found it with less confidence than ``geocoder_online_below``, and only its
answer with more confidence than the offline one is taken. A slow or failing
service costs at most ``geocoder_timeout_s`` and is logged, never fatal: the
call is stored without a point and a dispatcher can pin it.

Nominatim gives no confidence; it is read from the result's ``place_rank``
(30: a building or address, 26-27: a street, below: a wider area).
"""

import logging

import httpx

from services.dispatch.domain.geocoding import SOURCE_ONLINE, Geocode, Geocoder

log = logging.getLogger(__name__)

# Nominatim's usage policy asks every client to name itself.
USER_AGENT = "corespond-dispatch"


def _confidence(place_rank: int) -> float:
    if place_rank >= 30:
        return 0.8
    if place_rank >= 26:
        return 0.5
    return 0.2


class NominatimGeocoder:
    """``GET {url}/search?q=...&format=jsonv2&limit=1`` (``source: online``)."""

    def __init__(
        self, url: str, timeout_s: float = 2.0, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self._url = url.rstrip("/") + "/search"
        self._timeout_s = timeout_s
        self._transport = transport

    async def geocode(self, address: str) -> Geocode | None:
        params = {"q": address, "format": "jsonv2", "limit": "1"}
        try:
            async with httpx.AsyncClient(
                timeout=self._timeout_s,
                transport=self._transport,
                headers={"User-Agent": USER_AGENT},
            ) as client:
                response = await client.get(self._url, params=params)
                response.raise_for_status()
                found = response.json()
            if not isinstance(found, list) or not found:
                return None
            best = found[0]
            return Geocode(
                float(best["lat"]),
                float(best["lon"]),
                _confidence(int(best.get("place_rank", 0))),
                SOURCE_ONLINE,
                str(best.get("addresstype") or best.get("type") or "online"),
                str(best.get("display_name", ""))[:200],
            )
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            # The address is never logged: it is the caller's.
            log.warning("geocoder.online_failed", extra={"error": type(exc).__name__})
            return None


class Geocoders:
    """The address points, then (if configured and needed) the online geocoder."""

    def __init__(
        self, offline: Geocoder, online: Geocoder | None = None, online_below: float = 0.7
    ) -> None:
        self.offline = offline
        self.online = online
        self.online_below = online_below

    async def geocode(self, address: str) -> Geocode | None:
        found = await self.offline.geocode(address)
        if self.online is None or (found is not None and found.confidence >= self.online_below):
            return found
        remote = await self.online.geocode(address)
        if remote is not None and (found is None or remote.confidence > found.confidence):
            return remote
        return found
