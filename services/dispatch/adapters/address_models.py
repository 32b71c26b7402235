"""The address points a jurisdiction imports (``corespond addresses import``) for offline geocoding.

One row per address point of an OpenAddresses CSV or GeoJSON file, as written
and in the matching form (``street_key``, ``city_key``: see
``domain/geocoding.py``), so a lookup is an indexed equality before any fuzzy
matching. ``dataset`` names the file the points came from: importing it again
replaces them whole.
"""

from sqlalchemy import Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from services.dispatch.adapters.models import Base


class AddressPointRecord(Base):
    __tablename__ = "address_points"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dataset: Mapped[str] = mapped_column(String(128), index=True)
    number: Mapped[str] = mapped_column(String(16))
    # The number's leading integer ("1437A" → 1437): nearest number and interpolation.
    number_value: Mapped[int | None] = mapped_column(Integer, default=None)
    street: Mapped[str] = mapped_column(String(200))
    street_key: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str | None] = mapped_column(String(32), default=None)
    city: Mapped[str | None] = mapped_column(String(100), default=None)
    city_key: Mapped[str | None] = mapped_column(String(100), default=None)
    district: Mapped[str | None] = mapped_column(String(100), default=None)
    region: Mapped[str | None] = mapped_column(String(100), default=None)
    postcode: Mapped[str | None] = mapped_column(String(16), default=None)
    source_id: Mapped[str | None] = mapped_column(String(64), default=None)
    source_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)

    __table_args__ = (Index("ix_address_points_street_key_number", "street_key", "number_value"),)
