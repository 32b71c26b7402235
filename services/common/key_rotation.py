"""The master keys against what is stored: a check at start, and re-wrapping for rotation.

Both read the encrypted columns as raw text (through a plain ``Text`` view of
each table), so neither decrypts more than it must: the check opens the first
and last value of each column, rotation only unwraps and re-wraps data keys.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Column, MetaData, Table, Text, and_, column, select, table, update
from sqlalchemy.sql.expression import TableClause

from services.common.db import Database
from services.common.encrypted_columns import encrypted_columns, keyring_of
from services.common.field_crypto import ENV_NAME, DataKeyError, UndecryptableValue

log = logging.getLogger(__name__)


class WrongDataKeys(DataKeyError):
    """The configured keys do not open data this database already holds."""


@dataclass
class RotationReport:
    rewrapped: int = 0
    already_current: int = 0
    # Changed by the running service between our read and our write: it wrote
    # the new value under its own first key, so there is nothing to re-wrap.
    changed_meanwhile: int = 0
    undecryptable: list[str] = field(default_factory=list)

    def add(self, other: "RotationReport") -> None:
        self.rewrapped += other.rewrapped
        self.already_current += other.already_current
        self.changed_meanwhile += other.changed_meanwhile
        self.undecryptable += other.undecryptable


def _raw_view(source: Table, encrypted: Column[Any]) -> tuple[TableClause, str]:
    """The table as (primary key, the encrypted column as plain text)."""
    primary = list(source.primary_key.columns)
    if len(primary) != 1:
        raise ValueError(f"{source.name}: encrypted columns need a single-column primary key")
    key = primary[0].name
    return table(source.name, column(key), column(encrypted.name, Text())), key


async def check_keys_open_stored_values(db: Database, metadatas: Iterable[MetaData]) -> None:
    """Refuse to run with keys that cannot read what is already stored.

    The oldest and the newest value of each encrypted column are opened: a
    wrong key fails on both, an old key removed before rotation finished fails
    on the oldest.
    """
    keyring = keyring_of(db.engine)
    async with db.session() as session:
        for source, encrypted in encrypted_columns(metadatas):
            raw, key = _raw_view(source, encrypted)
            value_column = raw.c[encrypted.name]
            for order in (raw.c[key].asc(), raw.c[key].desc()):
                stored = await session.scalar(
                    select(value_column).where(value_column.is_not(None)).order_by(order).limit(1)
                )
                if stored is None:
                    break
                try:
                    keyring.open(stored)
                except UndecryptableValue as exc:
                    raise WrongDataKeys(
                        f"{ENV_NAME} cannot decrypt data already stored in "
                        f"{source.name}.{encrypted.name}: {exc}. Put back the key it was written "
                        "with (after the new one, if you are rotating) and start again"
                    ) from exc


async def rewrap_stored_values(
    db: Database, metadatas: Iterable[MetaData], batch_size: int = 500
) -> RotationReport:
    """Re-wrap every stored data key under the first master key; the ciphertext stays as it is.

    Safe while the service runs: each row is updated only if it still holds
    the value read (compare and set), so a concurrent write is never undone.
    """
    report = RotationReport()
    for source, encrypted in encrypted_columns(metadatas):
        column_report = await _rewrap_column(db, source, encrypted, batch_size)
        log.info(
            "keys.rewrapped",
            extra={
                "table": source.name,
                "column": encrypted.name,
                "rewrapped": column_report.rewrapped,
                "already_current": column_report.already_current,
            },
        )
        report.add(column_report)
    return report


async def _rewrap_column(
    db: Database, source: Table, encrypted: Column[Any], batch_size: int
) -> RotationReport:
    keyring = keyring_of(db.engine)
    raw, key = _raw_view(source, encrypted)
    key_column, value_column = raw.c[key], raw.c[encrypted.name]
    report = RotationReport()
    last: Any = None
    while True:
        query = select(key_column, value_column).where(value_column.is_not(None))
        if last is not None:
            query = query.where(key_column > last)
        async with db.writing() as session:
            rows = (await session.execute(query.order_by(key_column).limit(batch_size))).all()
            for row_key, stored in rows:
                try:
                    rewrapped = keyring.rewrap(stored)
                except UndecryptableValue:
                    report.undecryptable.append(f"{source.name}.{encrypted.name} {row_key}")
                    continue
                if rewrapped is None:
                    report.already_current += 1
                    continue
                result = await session.execute(
                    update(raw)
                    .where(and_(key_column == row_key, value_column == stored))
                    .values({encrypted.name: rewrapped})
                )
                if result.rowcount:  # type: ignore[attr-defined]
                    report.rewrapped += 1
                else:
                    report.changed_meanwhile += 1
            await session.commit()
        if len(rows) < batch_size:
            return report
        last = rows[-1][0]
