"""Async SQLAlchemy engine and sessions for one service's own database.

Writes go through :meth:`Database.writing`. On SQLite (embedded default, WAL
mode) that takes a per-process asyncio lock and begins with ``BEGIN
IMMEDIATE``: SQLite has one writer at a time, and writers queued on an asyncio
lock hand over at once, where writers queued on SQLite's busy handler sleep
in steps of up to 100 ms (that alone cut throughput several-fold). Reads begin
deferred and never wait for writers. PostgreSQL gets no lock (row locks do the
work) and one schema per service through the connection's ``search_path``.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

from services.common.encrypted_columns import use_keyring
from services.common.field_crypto import Keyring
from services.common.settings import ServiceSettings

# What app code holds a transaction as: an opaque handle it passes to its service's
# adapters, which alone speak SQL (tests/unit/test_layering.py).
Session = AsyncSession


class RuntimeBase(DeclarativeBase):
    """Tables every service has in its own database (outbox, inbox, revocations), built
    like all tables by the service's migrations (services/common/migrations.py)."""


class Database:
    def __init__(
        self,
        url: str,
        schema: str | None = None,
        echo: bool = False,
        keyring: Keyring | None = None,
    ) -> None:
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self.schema = None if self.is_sqlite else schema
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            kwargs["connect_args"] = {"timeout": 30}
        else:
            kwargs["pool_pre_ping"] = True
            kwargs["pool_size"] = 10
            if self.schema:
                kwargs["connect_args"] = {"server_settings": {"search_path": self.schema}}
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if self.is_sqlite:
            _tune_sqlite(self.engine)
        if keyring is not None:
            use_keyring(self.engine, keyring)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._write_lock: contextlib.AbstractAsyncContextManager[Any] = (
            asyncio.Lock() if self.is_sqlite else contextlib.nullcontext()
        )

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> "Database":
        """The service's database, encrypting with its ``CORESPOND_DATA_KEYS``.

        Raises :class:`~services.common.field_crypto.MissingDataKeys` (or
        ``InvalidDataKeys``) first: a service never stores personal data in clear.
        """
        keys = settings.data_keys.get_secret_value() if settings.data_keys else None
        keyring = Keyring.from_setting(keys)
        url = settings.resolved_database_url()
        if url.startswith("sqlite"):
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        return cls(url, schema=settings.database_schema or settings.service_name, keyring=keyring)

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    def session(self) -> AsyncSession:
        """A session for reading (on SQLite its transaction begins deferred)."""
        return self.sessions()

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[AsyncSession]:
        """A session in a write transaction; the caller commits, leaving rolls back."""
        async with self._write_lock:
            session = self.sessions()
            try:
                await session.connection(execution_options={_IMMEDIATE: True})
                yield session
            finally:
                await session.close()

    async def dispose(self) -> None:
        await self.engine.dispose()


_IMMEDIATE = "corespond_begin_immediate"


def _tune_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Hand transaction control to the "begin" hook below.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get(_IMMEDIATE)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
