"""The browser tests' stack and browser: real processes, Debian's Chromium, one per module.

The stack is started exactly as ``corespond up`` starts it (Tansu, the three
services on free loopback ports, SQLite, the console SMS backend, CORS for
the console's origin); a dispatcher account is made through the API with an
admin token signed with the test secret, and the test signs in through the
page like a person, computing TOTP codes from the enrolment it shows.
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Playwright, expect, sync_playwright

from services.cli.bench import demo_roster
from services.cli.stack import Stack, StackConfig, Tansu, free_port
from tests.support.inprocess import AUTH, AUTH_SECRET, DATA_KEYS, mint_token

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
DISPATCHER = {"username": "casey-dispatch", "password": "a long enough passphrase 42"}
# How long an expectation may wait for the page (the stack shares two cores with others).
expect.set_options(timeout=30_000)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@dataclass
class ConsoleStack:
    stack: Stack
    tansu: Tansu

    @property
    def dispatch(self) -> str:
        return self.stack.url("dispatch")

    @property
    def notify(self) -> str:
        return self.stack.url("notify")


@contextmanager
def running_console_stack(
    directory: Path, extra_env: dict[str, str] | None = None
) -> Iterator[ConsoleStack]:
    """The stack as ``corespond up`` starts it, with the dispatcher account made;
    ``extra_env`` adds settings (a module's own stack, e.g. with a tile URL)."""
    roster = directory / "roster.json"
    roster.write_text(json.dumps(demo_roster(units_per_role=3)))
    with (directory / "tansu.log").open("ab") as log:
        tansu = Tansu(log=log)
        tansu.start()
        stack = Stack(
            StackConfig(
                data_dir=directory,
                bootstrap_servers=tansu.bootstrap,
                auth_secret=AUTH_SECRET,
                data_keys=DATA_KEYS,
                ports={name: free_port() for name in ("dispatch", "triage", "notify")},
                seed_roster=roster,
                extra_env={"CORESPOND_SMS_BACKEND": "console", **(extra_env or {})},
            )
        )
        try:
            stack.start()
            created = httpx.post(
                stack.url("dispatch") + "/v1/users",
                json={**DISPATCHER, "display_name": "Casey", "roles": ["dispatcher"]},
                headers=AUTH,
                # Hashing a password (argon2) takes seconds when the machine is loaded.
                timeout=30,
            )
            assert created.status_code == 201, created.text
            yield ConsoleStack(stack, tansu)
        finally:
            stack.stop()
            tansu.stop()


@pytest.fixture(scope="module")
def console_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleStack]:
    with running_console_stack(tmp_path_factory.mktemp("console")) as running:
        yield running


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make install` installs Debian's chromium")
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM),
        headless=True,
        # No sandbox as root in a container; no background calls to the internet there is none of.
        args=["--no-sandbox", "--disable-background-networking"],
    )
    yield browser
    browser.close()


def desk_headers() -> dict[str, str]:
    """A dispatcher's token for what the test does beside the page (a responder's SMS reply)."""
    return {"Authorization": f"Bearer {mint_token(['dispatcher'], name='browser-test')}"}


def phone_headers() -> dict[str, str]:
    """The operator's (admin) token: on the console SMS backend the sent box is the
    responder's phone, and only the operator sees the links in it unredacted."""
    return {"Authorization": f"Bearer {mint_token(['admin'], name='browser-test-phone')}"}


def screenshot_path(name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name
