"""The three real services in this test's event loop, against a real broker and real databases.

Each app runs its own lifespan (database, bus, relay, consumer, workers) exactly
as under uvicorn; tests talk to it through httpx's ASGI transport. A service
can be stopped and started again mid-test.
"""

import json
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
from fastapi import FastAPI

from services.cli.stack import EMBEDDED_BROKER_ENV
from services.common.clock import Clock
from services.common.runtime import ServiceRuntime
from services.common.tokens import TokenKeys
from services.dispatch.main import DispatchSettings
from services.dispatch.main import create_app as create_dispatch
from services.notify.main import NotifySettings
from services.notify.main import create_app as create_notify
from services.triage.main import TriageSettings
from services.triage.main import create_app as create_triage
from tests.support.databases import DatabaseTarget

AUTH_SECRET = "test-auth-secret-0123456789-abcdefghijklmnopqrstuvwxyz"


def mint_token(
    roles: list[str],
    *,
    name: str = "tester",
    kind: str = "user",
    subject_id: str | None = None,
    ttl: timedelta = timedelta(days=800),
    now: datetime | None = None,
) -> str:
    """An access token as dispatch signs them, for a principal the test invents.

    Sign-in itself (password, TOTP, API keys) is tested on its own; the rest of the
    suite needs a caller with given roles, and gets one signed with the test secret.
    """
    return TokenKeys(AUTH_SECRET).issue(
        subject_id=subject_id or f"test-{name}",
        name=name,
        kind=kind,
        roles=roles,
        now=now or datetime.now(UTC),
        ttl=ttl,
    )


# Long-lived so tests that move a service's clock by days (or a retention period) get in.
# Valid from long before now to long after, since some tests run a service's clock
# years back (retention) or forward (follow-ups, expiries).
TOKEN = mint_token(
    ["admin"],
    name="test-admin",
    now=datetime.now(UTC) - timedelta(days=1000),
    ttl=timedelta(days=2000),
)
# A fixed master key for personal fields at rest (base64 of a 32-byte phrase);
# tests about keys pass their own through ``overrides``.
DATA_KEYS = "Y29yZXNwb25kLXRlc3QtZGF0YS1rZXktMzItYnl0ZXM="
AUTH = {"Authorization": f"Bearer {TOKEN}"}
DEMO_CALL = json.loads((Path(__file__).parents[2] / "deploy" / "demo" / "call.json").read_text())


def _broker_settings() -> dict[str, Any]:
    return {
        "kafka_enable_idempotence": EMBEDDED_BROKER_ENV["CORESPOND_KAFKA_ENABLE_IDEMPOTENCE"]
        == "true",
        "kafka_session_timeout_ms": int(EMBEDDED_BROKER_ENV["CORESPOND_KAFKA_SESSION_TIMEOUT_MS"]),
    }


class InProcessStack:
    def __init__(
        self,
        bootstrap: str,
        database: DatabaseTarget,
        data_dir: Path,
        *,
        roster: Path | None = None,
        overrides: dict[str, dict[str, Any]] | None = None,
        dispatch_clock: Clock | None = None,
        notify_clock: Clock | None = None,
        triage_clock: Clock | None = None,
    ) -> None:
        self.dispatch_clock = dispatch_clock
        self.notify_clock = notify_clock
        self.triage_clock = triage_clock
        self.bootstrap = bootstrap
        self.database = database
        self.data_dir = data_dir
        self.roster = roster
        self.overrides = overrides or {}
        self.apps: dict[str, FastAPI] = {}
        self.clients: dict[str, httpx.AsyncClient] = {}
        self._stacks: dict[str, AsyncExitStack] = {}

    def settings(self, name: str) -> dict[str, Any]:
        kind = _kind(name)
        common: dict[str, Any] = {
            "kafka_bootstrap_servers": self.bootstrap,
            "database_url": self.database.url(kind),
            "database_schema": self.database.schema(kind),
            "data_dir": self.data_dir,
            "auth_secret": AUTH_SECRET,
            "data_keys": DATA_KEYS,
            "outbox_poll_interval_s": 0.2,
            "consumer_retry_backoff_s": 0.05,
            "log_json": True,
            **_broker_settings(),
        }
        common.update(self.overrides.get(kind, {}))
        return common

    def _create(self, name: str) -> FastAPI:
        settings = self.settings(name)
        if _kind(name) == "dispatch":
            return create_dispatch(
                DispatchSettings(**settings, seed_roster=self.roster), clock=self.dispatch_clock
            )
        if _kind(name) == "triage":
            return create_triage(TriageSettings(**settings), clock=self.triage_clock)
        return create_notify(NotifySettings(**settings), clock=self.notify_clock)

    async def start(self, *names: str) -> None:
        for name in names or ("dispatch", "triage", "notify"):
            app = self._create(name)
            stack = AsyncExitStack()
            await stack.enter_async_context(app.router.lifespan_context(app))
            client = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app),
                base_url=f"http://{name.replace('#', '-')}",
                headers=AUTH,
            )
            await stack.enter_async_context(client)
            self.apps[name], self.clients[name], self._stacks[name] = app, client, stack

    async def stop(self, *names: str) -> None:
        for name in names or tuple(self._stacks):
            stack = self._stacks.pop(name, None)
            if stack:
                await stack.aclose()
            self.apps.pop(name, None)
            self.clients.pop(name, None)

    def runtime(self, name: str) -> ServiceRuntime:
        runtime: ServiceRuntime = self.apps[name].state.runtime
        return runtime

    @property
    def dispatch(self) -> httpx.AsyncClient:
        return self.clients["dispatch"]

    @property
    def triage(self) -> httpx.AsyncClient:
        return self.clients["triage"]

    @property
    def notify(self) -> httpx.AsyncClient:
        return self.clients["notify"]

    async def __aenter__(self) -> "InProcessStack":
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


def _kind(name: str) -> str:
    """``dispatch#2`` is a second replica of dispatch: same database, same consumer group."""
    return name.split("#", 1)[0]
