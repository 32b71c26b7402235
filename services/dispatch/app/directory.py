"""The provider directory published as Open Referral HSDS 3.0 (``domain/hsds.py``)."""

from typing import Any

from services.common.db import Database
from services.dispatch.adapters.provider_directory import ProviderDirectory
from services.dispatch.domain import hsds


async def as_hsds(db: Database) -> dict[str, Any]:
    """Every listed service, with its organisation and location, as one HSDS page."""
    async with db.session() as session:
        listed = await ProviderDirectory(session).listed()
    return hsds.service_page(listed)
