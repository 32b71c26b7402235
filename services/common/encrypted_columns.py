"""Column types that encrypt personal fields on write and decrypt them on read.

A model says ``mapped_column(EncryptedText)`` or ``mapped_column(EncryptedJSON)``
once, and the code that handles incidents never sees ciphertext. The keys
come from the engine the statement runs on (:func:`use_keyring`, called when a
service opens its database), so every service reads its own database with its
own keys and nothing global has to be set. Both types store text
(:mod:`services.common.field_crypto`'s format), so the same tables work on
SQLite and PostgreSQL.

Encrypted columns cannot be searched or compared in SQL; only fields that are
read by primary key (an incident's narrative, its caller) are encrypted.
"""

import json
from collections.abc import Iterable
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Column, MetaData, Table, Text
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.types import TypeDecorator

from services.common.field_crypto import Keyring, MissingDataKeys

_KEYRINGS: "WeakKeyDictionary[Dialect, Keyring]" = WeakKeyDictionary()


def use_keyring(engine: Engine | AsyncEngine, keyring: Keyring) -> None:
    """Encrypt and decrypt with ``keyring`` on this engine (each engine has its own dialect)."""
    _KEYRINGS[engine.dialect] = keyring


def keyring_of(engine: Engine | AsyncEngine) -> Keyring:
    return _keyring(engine.dialect)


def _keyring(dialect: Dialect) -> Keyring:
    keyring = _KEYRINGS.get(dialect)
    if keyring is None:
        raise MissingDataKeys()
    return keyring


class EncryptedText(TypeDecorator[str]):
    """A string, stored sealed."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else _keyring(dialect).seal(value.encode())

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else _keyring(dialect).open(value).decode()


class EncryptedJSON(TypeDecorator[Any]):
    """A JSON document (dict, list, ...), stored sealed. Python ``None`` is SQL NULL."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return _keyring(dialect).seal(json.dumps(value, separators=(",", ":")).encode())

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        return None if value is None else json.loads(_keyring(dialect).open(value))


ENCRYPTED_TYPES = (EncryptedText, EncryptedJSON)


def encrypted_columns(metadatas: Iterable[MetaData]) -> list[tuple[Table, Column[Any]]]:
    """Every encrypted column of these tables: what rotation re-wraps and start-up checks."""
    found = []
    for metadata in metadatas:
        for table in metadata.sorted_tables:
            for column in table.columns:
                if isinstance(column.type, ENCRYPTED_TYPES):
                    found.append((table, column))
    return found
