"""The reports page in Chromium: a supervisor signs in, sees the three charts and downloads a CSV.

The stack is real processes (tests/browser/conftest.py); the page loads nothing from another
host, every chart is an SVG dispatch drew, and a screenshot is kept in tests/artifacts/.
"""

from collections.abc import Iterator

import httpx
import pyotp
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import ConsoleStack, screenshot_path
from tests.support.inprocess import AUTH, DEMO_CALL

SUPERVISOR = {"username": "sam-supervisor", "password": "a long enough passphrase 43"}


@pytest.fixture(scope="module")
def reports_page(browser: Browser, console_stack: ConsoleStack) -> Iterator[tuple[Page, list[str]]]:
    created = httpx.post(
        console_stack.dispatch + "/v1/users",
        json={**SUPERVISOR, "display_name": "Sam", "roles": ["supervisor"]},
        headers=AUTH,
    )
    assert created.status_code == 201, created.text
    for _ in range(6):
        sent = httpx.post(console_stack.dispatch + "/v1/calls", json=DEMO_CALL, headers=AUTH)
        assert sent.status_code == 202, sent.text
    context = browser.new_context(viewport={"width": 1100, "height": 1200}, accept_downloads=True)
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(console_stack.dispatch + "/reports")
    page.get_by_label("Username").fill(SUPERVISOR["username"])
    page.get_by_label("Password").fill(SUPERVISOR["password"])
    page.get_by_role("button", name="Continue").click()
    # The password an admin set is replaced by the supervisor's own first (same sign-in as
    # the console's).
    page.get_by_label("New passphrase", exact=True).fill("sam's own long passphrase")
    page.get_by_label("New passphrase again").fill("sam's own long passphrase")
    page.get_by_role("button", name="Change it and continue").click()
    expect(page.locator("#enrol-secret")).not_to_be_empty()
    secret = (page.locator("#enrol-secret").text_content() or "").replace(" ", "")
    page.get_by_label("6-digit code from your authenticator").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#reports")).to_be_visible()
    yield page, requested
    context.close()


def test_the_three_charts_are_drawn_by_the_server(
    reports_page: tuple[Page, list[str]], console_stack: ConsoleStack
) -> None:
    page, requested = reports_page
    charts = page.locator("figure.chart")
    expect(charts).to_have_count(3)
    for name in ("deflection-by-program", "deflection-trend", "funnel"):
        expect(page.locator(f'figure[data-chart="{name}"] svg')).to_be_visible()
    # Six calls from the demo: a clinician each, so the funnel shows them.
    expect(page.locator('figure[data-chart="funnel"] svg')).to_contain_text("calls")
    page.screenshot(path=screenshot_path("reports-page.png"), full_page=True)
    assert all(url.startswith(console_stack.dispatch) for url in requested)


def test_each_chart_downloads_its_csv(reports_page: tuple[Page, list[str]]) -> None:
    page, _ = reports_page
    with page.expect_download() as waiting:
        page.locator('figure[data-chart="funnel"] a.csv').click()
    download = waiting.value
    assert download.suggested_filename == "funnel.csv"
    path = download.path()
    assert path is not None
    lines = path.read_text().splitlines()
    assert lines[0] == "section,program,week,name,value,suppressed"
    assert lines[1] == "calls,all,all,incidents,6,False"
