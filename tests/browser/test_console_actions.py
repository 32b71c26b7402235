"""The dispatcher's remaining actions, each from the console in Chromium against the real stack
(one for the module): ask for a warm handoff from the incident pane; set a unit's status from
the unit board; pin the incident by clicking the map. Each test signs in a user of its own (a
TOTP code is accepted once per user); the helpers are the shared-workstation tests'.
"""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from tests.browser.conftest import ConsoleStack
from tests.browser.test_console_clears_and_alerts import CALL, _api, _call, _open, _sign_in


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    yield context
    context.close()


def test_a_warm_handoff_is_requested_from_the_incident_pane(
    context: BrowserContext, console_stack: ConsoleStack
) -> None:
    page = context.new_page()
    _sign_in(page, console_stack, "kim-handoff")
    view = _call(console_stack, CALL)
    _open(page, view["code"])

    page.get_by_label("Warm handoff to").select_option("detox")
    page.get_by_role("button", name="Request warm handoff").click()
    # No provider is loaded in this stack: the request is made and shown as unplaced.
    listed = page.locator("section[aria-label='Handoffs and telehealth'] li", has_text="detox")
    expect(listed).to_be_visible()
    expect(page.locator("#incident-action-error")).to_be_empty()
    asked = _api(console_stack, "GET", f"/v1/incidents/{view['id']}/handoffs")
    assert [(h["service_type"], h["requested_by"]) for h in asked] == [("detox", "kim-handoff")]
    expect(listed).to_contain_text(asked[0]["status"].replace("_", " "))


def test_a_unit_status_is_set_from_the_unit_board(
    context: BrowserContext, console_stack: ConsoleStack
) -> None:
    page = context.new_page()
    _sign_in(page, console_stack, "kim-units")
    free = [u for u in _api(console_stack, "GET", "/v1/units") if not u["current_assignment_id"]]
    unit = free[-1]
    row = page.locator(f"#unit-rows tr[data-unit='{unit['id']}']")
    try:
        page.get_by_role("button", name=f"Off duty: {unit['call_sign']}").click()
        expect(row.locator("td.status")).to_have_text("off duty")
        assert _api(console_stack, "GET", f"/v1/units/{unit['id']}")["status"] == "off_duty"
        # The button for the status it has is gone; the others are there, by keyboard too.
        expect(row.get_by_role("button", name=f"Off duty: {unit['call_sign']}")).to_have_count(0)
        back = row.get_by_role("button", name=f"Available: {unit['call_sign']}")
        back.focus()
        page.keyboard.press("Enter")
        expect(row.locator("td.status")).to_have_text("available")
        expect(page.locator("#unit-error")).to_be_empty()
    finally:
        _api(console_stack, "POST", f"/v1/units/{unit['id']}/status", json={"status": "available"})


def test_the_open_incident_is_pinned_by_clicking_the_map(
    context: BrowserContext, console_stack: ConsoleStack
) -> None:
    page = context.new_page()
    _sign_in(page, console_stack, "kim-pin")
    view = _call(console_stack, CALL)
    _open(page, view["code"])
    expect(page.locator("#unit-map svg")).to_be_visible()

    page.get_by_role("button", name="Pin on the map").click()
    expect(page.locator("#unit-map")).to_contain_text(f"Click the map where #{view['code']} is")
    # Escape gives up; the map is a plain map again.
    page.keyboard.press("Escape")
    expect(page.locator("#unit-map svg.pinning")).to_have_count(0)
    page.get_by_role("button", name="Pin on the map").click()
    box = page.locator("#unit-map svg.pinning").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.6)

    expect(page.locator("#incident-body")).to_contain_text("location: pin")
    pinned = _api(console_stack, "GET", f"/v1/incidents/{view['id']}")
    assert pinned["location_source"] == "pin"
    assert pinned["location_used"] == "pin"
    assert [t for t in pinned["timeline"] if t["kind"] == "location.pinned"]
    expect(page.locator("#unit-map svg.pinning")).to_have_count(0)
