"""A dispatcher works calls in the console, in Chromium, against the real stack.

One stack and one signed-in console page for the module (each TOTP code is
accepted once, and signing in is itself the first thing tested). The tests
run in file order and build on each other's incidents no more than the queue
requires: each makes its own call.
"""

import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pyotp
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import (
    DISPATCHER,
    ConsoleStack,
    desk_headers,
    phone_headers,
    screenshot_path,
)

# Triage puts this at priority 3 (clinician): it waits for a dispatcher to confirm.
NON_URGENT = (
    "caller says her brother is safe at home but asks for help finding a detox bed, "
    "no weapons, not violent"
)
POINT = {"lat": 39.7392, "lon": -104.9903}
# What the console page asked for, and the errors it logged (a CSP refusal is one).
requested: list[str] = []
problems: list[str] = []


@pytest.fixture(scope="module")
def console(browser: Browser, console_stack: ConsoleStack) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    requested.clear()
    page.on("request", lambda request: requested.append(request.url))
    page.on(
        "console",
        lambda message: problems.append(message.text) if message.type == "error" else None,
    )
    page.goto(console_stack.dispatch + "/")
    page.get_by_label("Username").fill(DISPATCHER["username"])
    page.get_by_label("Password").fill(DISPATCHER["password"])
    page.get_by_role("button", name="Continue").click()
    # The admin's password is replaced by the dispatcher's own first.
    page.get_by_label("New passphrase", exact=True).fill("casey's own long passphrase")
    page.get_by_label("New passphrase again").fill("casey's own long passphrase")
    page.get_by_role("button", name="Change it and continue").click()
    # First sign-in: the enrolment is shown as a QR code and as text.
    expect(page.locator("#enrol-qr svg")).to_be_visible()
    uri = page.locator("#enrol-uri").text_content() or ""
    assert uri.startswith("otpauth://totp/")
    secret = (page.locator("#enrol-secret").text_content() or "").replace(" ", "")
    assert pyotp.parse_uri(uri).secret == secret
    page.get_by_label("6-digit code from your authenticator").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#desk")).to_be_visible()
    expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    yield page
    context.close()


def _api(
    stack: ConsoleStack,
    service: str,
    method: str,
    path: str,
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> Any:
    base = stack.dispatch if service == "dispatch" else stack.notify
    headers = headers or desk_headers()
    response = httpx.request(method, base + path, headers=headers, timeout=30, **kwargs)
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


def _until(probe: Any, what: str, timeout_s: float = 30) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"not seen: {what}")


def _awaiting_call(stack: ConsoleStack) -> dict[str, Any]:
    """A call made through the API (not the page), waiting for a dispatcher."""
    call = {"narrative": NON_URGENT, "location": {**POINT, "address": "1500 Grant St"}}
    accepted = _api(stack, "dispatch", "POST", "/v1/calls", json=call)
    incident_id = accepted["incident_id"]
    return dict(
        _until(
            lambda: (
                view
                if (view := _api(stack, "dispatch", "GET", f"/v1/incidents/{incident_id}"))[
                    "status"
                ]
                == "awaiting_dispatch"
                else None
            ),
            f"incident {incident_id} awaiting dispatch",
        )
    )


def _dispatched(stack: ConsoleStack, incident: dict[str, Any]) -> dict[str, Any]:
    """Dispatched as recommended (through the API), once its SMS is recorded by notify."""
    units = [{"role": e["role"], "unit_id": e["unit_id"]} for e in incident["recommendation"]]
    _api(
        stack, "dispatch", "POST", f"/v1/incidents/{incident['id']}/dispatch", json={"units": units}
    )
    # Read as the phone: a dispatcher sees the responder's link redacted.
    messages = _until(
        lambda: _api(
            stack,
            "notify",
            "GET",
            "/v1/messages",
            headers=phone_headers(),
            params={"incident_id": incident["id"]},
        ),
        f"the SMS of incident {incident['code']}",
    )
    return dict(messages[0])


def _unit_phone(stack: ConsoleStack, incident_id: str, assignment_id: str | None = None) -> str:
    view = _api(stack, "dispatch", "GET", f"/v1/incidents/{incident_id}")
    offered = [a for a in view["assignments"] if assignment_id in (None, a["id"])]
    unit = _api(stack, "dispatch", "GET", f"/v1/units/{offered[0]['unit_id']}")
    phone: str = unit["phone"]
    return phone


def _open_in_console(console: Page, code: str) -> None:
    row = console.locator("#queue-rows tr", has_text=f"#{code}")
    expect(row).to_be_visible()
    row.click()
    expect(console.locator("#incident-body .incident-head")).to_contain_text(f"#{code}")


def test_a_typed_call_is_triaged_dispatched_texted_and_accepted_live(
    console: Page, console_stack: ConsoleStack
) -> None:
    console.get_by_label("What is happening").fill(NON_URGENT)
    # The protocol answers are radio groups: keyboard-reachable yes / no / unknown.
    console.get_by_role("group", name="Weapons?").get_by_label("no", exact=True).check()
    # The preview follows the typing, with its reasons.
    expect(console.locator("#preview-body")).to_contain_text("clinician")
    expect(console.locator("#preview-body .reasons li").first).to_be_visible()
    console.get_by_label("Address", exact=True).fill("1437 Bannock St")
    console.get_by_label("Latitude").fill(str(POINT["lat"]))
    console.get_by_label("Longitude").fill(str(POINT["lon"]))
    console.get_by_label("Caller phone").fill("+13035550100")
    console.get_by_label("Caller's language").fill("es")
    console.get_by_label("What is happening").press("Control+Enter")
    expect(console.locator("#intake-status")).to_contain_text("Call received")
    code = re.findall(r"incident (\d+)", console.locator("#intake-status").inner_text())[0]

    row = console.locator("#queue-rows tr", has_text=f"#{code}")
    expect(row).to_contain_text("P3 non-urgent")
    expect(row).to_contain_text("awaiting dispatch")
    pane = console.locator("#incident-body")
    expect(pane).to_contain_text(f"#{code}")
    expect(pane).to_contain_text("Caller's language: es")
    expect(pane).to_contain_text("intake, confidence 1.00")
    expect(pane.get_by_role("region", name="Triage").locator(".reasons li").first).to_be_visible()
    expect(pane.get_by_role("region", name="Recommendation")).to_contain_text("ETA")

    console.get_by_role("button", name="Dispatch these units").click()
    assignment = pane.locator("td[data-status]").first
    expect(assignment).to_have_attribute("data-status", "offered")
    expect(pane.locator(".messages li").first).to_contain_text(f"#{code}")

    incident_id = pane.locator("[data-incident]").get_attribute("data-incident") or ""
    phone = _unit_phone(console_stack, incident_id)
    _api(
        console_stack,
        "notify",
        "POST",
        "/v1/console/sms/inbound",
        json={"from": phone, "body": f"Y {code}"},
    )
    # No reload: the live stream brings it.
    expect(assignment).to_have_attribute("data-status", "accepted")
    console.screenshot(path=screenshot_path("console.png"), full_page=True)
    print(f"console screenshot: {screenshot_path('console.png')}")

    # Radio traffic, reported by the dispatcher: en route, on scene, clear.
    row = pane.locator("tr[data-assignment]").first
    for status in ("en_route", "on_scene", "cleared"):
        row.locator(f'button[data-step="{status}"]').click()
        expect(assignment).to_have_attribute("data-status", status)
    expect(row.locator("button[data-step]")).to_have_count(0)  # cleared is final
    # Re-plan is in reach while the incident is open.
    pane.get_by_role("button", name="Re-plan unfilled roles").click()
    expect(pane.locator("#incident-action-error")).to_be_empty()


def test_every_asset_and_call_stays_on_the_stack(console: Page) -> None:
    """No CDN, no outside host: each request the console made went to one of the services."""
    assert requested
    outside = [url for url in requested if not url.startswith("http://127.0.0.1:")]
    assert outside == []
    assert problems == []
    csp = console.request.get(console.url).headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp


def test_the_responder_page_accepts_and_the_console_shows_it(
    browser: Browser, console: Page, console_stack: ConsoleStack
) -> None:
    incident = _awaiting_call(console_stack)
    _open_in_console(console, incident["code"])
    message = _dispatched(console_stack, incident)
    link = re.findall(r"Open: (\S+/r/\S+)", message["body"])[0]

    phone = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    try:
        page = phone.new_page()
        page.goto(link)
        expect(page.get_by_text(f"#{incident['code']}").first).to_be_visible()
        page.get_by_role("button", name="Accept").click()
        expect(page.get_by_text("You accepted")).to_be_visible()
        page.screenshot(path=screenshot_path("responder-page.png"), full_page=True)
        print(f"responder page screenshot: {screenshot_path('responder-page.png')}")
    finally:
        phone.close()
    # The assignment this link was for (a call may need more than one role).
    status = console.locator(f'tr[data-assignment="{message["assignment_id"]}"] td[data-status]')
    expect(status).to_have_attribute("data-status", "accepted")


def test_a_dropped_stream_recovers_and_shows_what_changed_meanwhile(
    console: Page, console_stack: ConsoleStack
) -> None:
    incident = _awaiting_call(console_stack)
    _open_in_console(console, incident["code"])
    message = _dispatched(console_stack, incident)
    status = console.locator(f'tr[data-assignment="{message["assignment_id"]}"] td[data-status]')
    expect(status).to_have_attribute("data-status", "offered")
    phone = _unit_phone(console_stack, incident["id"], message["assignment_id"])

    # Dispatch dies under the console (SIGKILL: the stream is cut, not closed).
    dispatch = console_stack.stack.services["dispatch"]
    dispatch.kill()
    expect(console.locator("#connection")).to_have_attribute("data-state", "reconnecting")
    # Meanwhile the responder answers; notify takes it and dispatch reads it when back.
    _api(
        console_stack,
        "notify",
        "POST",
        "/v1/console/sms/inbound",
        json={"from": phone, "body": f"Y {incident['code']}"},
    )
    console_stack.stack.restart("dispatch")
    expect(console.locator("#connection")).to_have_attribute("data-state", "live")
    expect(status).to_have_attribute("data-status", "accepted")


def test_usable_at_200_percent_zoom_and_by_keyboard(console: Page) -> None:
    """At 200 % zoom a 1280-pixel screen is 640 CSS pixels wide: one column, no sideways scroll."""
    console.set_viewport_size({"width": 640, "height": 900})
    try:
        overflow = console.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0
        # The protocol questions are reached and answered from the keyboard.
        console.get_by_label("What is happening").focus()
        console.keyboard.press("Tab")
        console.keyboard.press("ArrowLeft")  # unknown -> no
        weapons = console.get_by_role("group", name="Weapons?")
        expect(weapons.get_by_label("no", exact=True)).to_be_checked()
        # Alt+Q reaches the queue, Enter opens the incident (focus survives the timers' redraw).
        console.keyboard.press("Alt+q")
        first = console.locator("#queue-rows tr[data-id]").first
        expect(first).to_be_focused()
        code = first.locator("td").nth(1).inner_text()
        console.keyboard.press("Enter")
        expect(console.locator("#incident-body .incident-head")).to_contain_text(code)
        console.keyboard.press("Alt+n")
        expect(console.get_by_label("What is happening")).to_be_focused()
    finally:
        console.set_viewport_size({"width": 1280, "height": 1000})
