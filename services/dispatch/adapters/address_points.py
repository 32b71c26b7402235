"""Address points in dispatch's database: importing a file's points, and geocoding against them.

The import replaces a dataset whole in one transaction (nothing half-written).
A lookup asks the database for the points of one street (an indexed equality
on the normalised key); the fuzzy search for a misspelt street runs over the
list of distinct street keys, kept in memory and re-read only when the table
changed (its row count or highest id), so a new import by the CLI is seen at
the next call without a restart.
"""

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.db import Database
from services.dispatch.adapters.address_files import AddressPointIn
from services.dispatch.adapters.address_models import AddressPointRecord
from services.dispatch.domain.geocoding import (
    AddressPoint,
    Geocode,
    best_of,
    house_number_value,
    locate,
    normalise_city,
    normalise_street,
    parse_address,
    similar_streets,
)

INSERT_BATCH = 1000


async def replace_dataset(session: AsyncSession, dataset: str, points: list[AddressPointIn]) -> int:
    """Replace every point of ``dataset`` by ``points`` (the caller commits); returns how many
    points the dataset had before."""
    replaced = await session.scalar(
        select(func.count())
        .select_from(AddressPointRecord)
        .where(AddressPointRecord.dataset == dataset)
    )
    await session.execute(delete(AddressPointRecord).where(AddressPointRecord.dataset == dataset))
    rows = [
        {
            "dataset": dataset,
            "number": p.number,
            "number_value": house_number_value(p.number),
            "street": p.street,
            "street_key": normalise_street(p.street),
            "unit": p.unit,
            "city": p.city,
            "city_key": normalise_city(p.city),
            "district": p.district,
            "region": p.region,
            "postcode": p.postcode,
            "source_id": p.id,
            "source_hash": p.hash,
            "lat": p.lat,
            "lon": p.lon,
        }
        for p in points
    ]
    for start in range(0, len(rows), INSERT_BATCH):
        await session.execute(insert(AddressPointRecord), rows[start : start + INSERT_BATCH])
    return int(replaced or 0)


class AddressPointGeocoder:
    """Geocodes against the imported address points (``source: address_points``)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._streets: list[str] = []
        self._version: tuple[int, int] | None = None

    async def geocode(self, address: str) -> Geocode | None:
        query = parse_address(address)
        if query is None:
            return None
        async with self._db.session() as session:
            exact = await self._points(session, query.street)
            if exact:
                return locate(query, exact)
            await self._refresh_streets(session)
            streets = similar_streets(query, self._streets)
            results = [
                locate(query, await self._points(session, street), score)
                for street, score in streets
            ]
        return best_of(results, ambiguous=len(streets) > 1)

    async def _points(self, session: AsyncSession, street_key: str) -> list[AddressPoint]:
        rows = await session.execute(
            select(
                AddressPointRecord.number,
                AddressPointRecord.number_value,
                AddressPointRecord.street,
                AddressPointRecord.street_key,
                AddressPointRecord.city,
                AddressPointRecord.city_key,
                AddressPointRecord.lat,
                AddressPointRecord.lon,
            ).where(AddressPointRecord.street_key == street_key)
        )
        return [
            AddressPoint(
                r.number,
                r.number_value,
                r.street_key,
                r.city_key,
                r.lat,
                r.lon,
                label=f"{r.number} {r.street}" + (f", {r.city}" if r.city else ""),
            )
            for r in rows.all()
        ]

    async def _refresh_streets(self, session: AsyncSession) -> None:
        count, highest = (
            await session.execute(
                select(func.count(), func.coalesce(func.max(AddressPointRecord.id), 0))
            )
        ).one()
        version = (int(count), int(highest))
        if version != self._version:
            keys = await session.scalars(select(AddressPointRecord.street_key).distinct())
            self._streets, self._version = sorted(keys.all()), version
