"""The link between a CAD's incident (its EIDO ``$id``) and the incident corespond made of it.

One row per EIDO ``$id``: the same document posted twice finds its incident here instead of
making a second one, and an update (a newer ``lastUpdateTimeStamp``) goes to the same
incident. No personal data: ids, times, the APCO type and which notes were already taken.
"""

from datetime import datetime

from sqlalchemy import JSON, DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from services.dispatch.adapters.models import Base


class EidoReferenceRecord(Base):
    __tablename__ = "eido_references"

    # The EIDO's ``$id``: the CAD's incident tracking id (urn:emergency:uid:incidentid:...).
    eido_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    incident_id: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    # The service client (CAD) that handed the incident over: only it reads it back.
    client: Mapped[str] = mapped_column(String(128))
    issuing_element: Mapped[str] = mapped_column(String(255))
    apco_type: Mapped[str | None] = mapped_column(String(32), default=None)
    last_update: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    note_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
