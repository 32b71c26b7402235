"""The dispatcher's remaining actions, each from the console in Chromium against the real stack
(one for the module): ask for a warm handoff from the incident pane; set a unit's status from
the unit board; pin the incident by clicking the map; the map with every open incident, the
units' service areas and, because this module's stack names a tile URL, a base map of raster
tiles (served here by the test: the tile host does not exist). Each test signs in a user of
its own (a TOTP code is accepted once per user); the helpers are the shared-workstation tests'.
"""

import base64
import math
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Route, expect

from tests.browser.conftest import ConsoleStack, running_console_stack
from tests.browser.test_console_clears_and_alerts import (
    CALL,
    OVERDOSE,
    _api,
    _call,
    _open,
    _sign_in,
)
from tests.support.inprocess import AUTH

TILES = "http://tiles.invalid/{z}/{x}/{y}.png"
# A 1 x 1 grey PNG: what the pretend tile server answers.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNoAAAAggCBd81ytgAAAABJRU5ErkJggg=="
)
AREA = {
    "type": "Polygon",
    "coordinates": [
        [[-105.02, 39.72], [-104.96, 39.72], [-104.96, 39.76], [-105.02, 39.76], [-105.02, 39.72]]
    ],
}


@pytest.fixture(scope="module")
def console_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleStack]:
    with running_console_stack(
        tmp_path_factory.mktemp("console-actions"), {"CORESPOND_CONSOLE_TILE_URL": TILES}
    ) as running:
        yield running


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


def test_the_map_shows_every_open_incident_the_service_areas_and_the_configured_tiles(
    context: BrowserContext, console_stack: ConsoleStack
) -> None:
    config = httpx.get(console_stack.dispatch + "/console/config.json", timeout=30).json()
    assert config["tile_url"] == TILES
    page = httpx.get(console_stack.dispatch + "/", timeout=30)
    assert "img-src 'self' http://tiles.invalid;" in page.headers["content-security-policy"]

    unit = _api(console_stack, "GET", "/v1/units")[0]
    patched = httpx.patch(
        f"{console_stack.dispatch}/v1/units/{unit['id']}",
        json={"service_area": AREA, "jurisdiction": "default"},
        headers=AUTH,
        timeout=30,
    )
    assert patched.status_code == 200, patched.text
    try:
        asked: list[str] = []

        def tile(route: Route) -> None:
            asked.append(route.request.url)
            route.fulfill(status=200, content_type="image/png", body=PNG)

        browser_page = context.new_page()
        browser_page.route("http://tiles.invalid/**", tile)
        outside: list[str] = []
        stack_origins = (console_stack.dispatch, console_stack.stack.url("triage"))
        browser_page.on(
            "request",
            lambda r: (
                None
                if r.url.startswith((*stack_origins, console_stack.notify, "http://tiles.invalid"))
                else outside.append(r.url)
            ),
        )
        _sign_in(browser_page, console_stack, "kim-map")
        first = _call(console_stack, CALL)
        second: dict[str, Any] = _call(console_stack, OVERDOSE)
        _open(browser_page, first["code"])

        shown = browser_page.locator("#unit-map")
        # Both open incidents, not only the one in the pane; the units as before.
        expect(shown.locator(f"[data-map-incident='#{first['code']}']")).to_have_count(1)
        expect(shown.locator(f"[data-map-incident='#{second['code']}']")).to_have_count(1)
        expect(shown.locator(f"[data-map-unit='{unit['id']}']")).to_have_count(1)
        # The service area the unit carries, named by its agency.
        area = shown.locator("path.service-area")
        expect(area).to_have_count(1)
        expect(area.locator("title")).to_have_text(f"service area: {unit['agency']} (default)")
        # The base map: tiles from the configured host, and its name on the map.
        expect(shown.locator("image.tile").first).to_be_attached()
        assert asked
        tiles = {
            tuple(int(n) for n in u.removeprefix("http://tiles.invalid/")[:-4].split("/"))
            for u in asked
        }
        zoom = next(iter(tiles))[0]
        assert 10 <= zoom <= 19, tiles
        # The tile under the incident is among them (Web Mercator, as slippy maps number them).
        lat, lon = math.radians(CALL["location"]["lat"]), CALL["location"]["lon"]
        under = (
            zoom,
            int((lon + 180) / 360 * 2**zoom),
            int((1 - math.asinh(math.tan(lat)) / math.pi) / 2 * 2**zoom),
        )
        assert under in tiles, (under, tiles)
        expect(shown).to_contain_text("tiles: tiles.invalid")
        assert outside == [], outside
    finally:
        httpx.patch(
            f"{console_stack.dispatch}/v1/units/{unit['id']}",
            json={"service_area": None, "jurisdiction": None},
            headers=AUTH,
            timeout=30,
        )
