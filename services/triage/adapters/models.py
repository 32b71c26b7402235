"""triage's tables: one decision per incident, kept for audit and replay."""

from datetime import datetime

from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.common.encrypted_columns import EncryptedJSON


class Base(DeclarativeBase):
    pass


class DecisionRecord(Base):
    __tablename__ = "triage_decisions"

    incident_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(128))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    policy_version: Mapped[str] = mapped_column(String(64))
    response_model: Mapped[str] = mapped_column(String(32))
    priority: Mapped[int] = mapped_column(Integer)
    # Sealed: the rationale's evidence quotes the caller's words.
    decision: Mapped[dict[str, object]] = mapped_column(EncryptedJSON)
    # When the retention purge removed that evidence (None: still whole).
    purged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
