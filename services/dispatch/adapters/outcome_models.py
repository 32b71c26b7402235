"""dispatch's tables for issue 21: what an incident came to at close, and overdose spikes.

Kept apart from ``models.py`` so the outcome fields are one row per closed
incident (an incident closed before they existed simply has none) and a spike
is its own record that CAP messages are built from.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from services.common.encrypted_columns import EncryptedText
from services.dispatch.adapters.models import Base


class OutcomeRecord(Base):
    """The outcome fields given when an incident closed (every one optional)."""

    __tablename__ = "incident_outcomes"

    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"), primary_key=True)
    naloxone_doses: Mapped[int | None] = mapped_column(Integer, default=None)
    transported: Mapped[bool | None] = mapped_column(Boolean, default=None)
    # Typed by a person: sealed like every other free text.
    transported_to: Mapped[str | None] = mapped_column(EncryptedText, default=None)
    referred_provider_id: Mapped[str | None] = mapped_column(String(64), default=None)
    arrest: Mapped[bool | None] = mapped_column(Boolean, default=None)
    follow_up_outcome: Mapped[str | None] = mapped_column(String(24), default=None)
    # The closing dispatcher's "fatal overdose": a naloxone use that was not a reversal.
    fatal_overdose: Mapped[bool] = mapped_column(Boolean, default=False)
    # The APCO ANS 1.111.2 disposition code the closer chose (issue 19); a CAD gets it in
    # preference to the one our disposition maps to.
    apco_disposition: Mapped[str | None] = mapped_column(String(32), default=None)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[str] = mapped_column(String(128))


class SpikeRecord(Base):
    """One spike alert: an area, the 24 h window it covers, and when it cleared."""

    __tablename__ = "spikes"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    jurisdiction: Mapped[str] = mapped_column(String(64))
    # "jurisdiction:<name>" or "cell:<row>:<col>": one open spike per key at a time.
    area_key: Mapped[str] = mapped_column(String(96))
    area_desc: Mapped[str] = mapped_column(String(160))
    # {"polygon": [[lat, lon], ...]} or {"circle": [lat, lon, radius_km]} or {}.
    geometry: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    count: Mapped[int] = mapped_column(Integer)
    threshold: Mapped[float] = mapped_column(Float)
    basis: Mapped[str] = mapped_column(String(16))
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    raised_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    clears_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    cleared_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    alert_id: Mapped[str | None] = mapped_column(String(64), default=None)

    __table_args__ = (
        # One open spike per area, enforced by the database: two dispatch replicas
        # checking at once cannot both raise it (the second commit fails, and its next
        # pass finds the spike open).
        Index(
            "uq_spikes_open_area",
            "area_key",
            unique=True,
            sqlite_where=text("cleared_at IS NULL"),
            postgresql_where=text("cleared_at IS NULL"),
        ),
    )
