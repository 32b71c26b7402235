"""The provider directory as the app reads it whole (the HSDS export), in SQL."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.dispatch.adapters.models import ProviderRecord
from services.dispatch.domain.hsds import ListedService


class ProviderDirectory:
    """The providers table, inside the caller's session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def listed(self) -> list[ListedService]:
        rows = await self.session.scalars(
            select(ProviderRecord).order_by(ProviderRecord.organization, ProviderRecord.id)
        )
        return [
            ListedService(
                id=p.id,
                organization=p.organization,
                service_type=p.service_type,
                service_name=p.service_name,
                address=p.address,
                lat=p.lat,
                lon=p.lon,
                timezone=p.timezone,
                schedule=tuple(p.schedule or ()),
                capacity=p.capacity,
                contact_name=p.contact_name,
                public_phone=p.public_phone,
                active=p.active,
            )
            for p in rows.all()
        ]
