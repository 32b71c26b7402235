"""A shared workstation: signing out and the idle lock leave nothing of the last call in the
page (text, markup, attributes, form values, the JS heap) and close the live stream; the
alerts panel puts a P1 with an unfilled role on top, takes an acknowledgement, and drops
alerts whose condition ended; axe-core finds no serious accessibility violation on the
filled desk or the sign-in form. In Chromium against the real stack (one for the module).

Each test signs in a user of its own (a TOTP code is accepted once per user). The
screenshots saved in tests/artifacts/ are the README's (docs/ holds copies).
"""

import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pyotp
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import ConsoleStack, desk_headers, screenshot_path
from tests.support.inprocess import AUTH

PASSWORD = "a long enough passphrase 42"
# What the admin gives; the person replaces it with PASSWORD at the first sign-in.
GIVEN = "an admin's starting passphrase 7"
# Words of the last call that must not survive a sign-out anywhere in the page.
NARRATIVE = (
    "caller says her uncle Bartholomew is pacing by the orchid greenhouse, no weapons, not violent"
)
ADDRESS = "4417 Quillfeather Lane"
PHONE = "+13035550177"
CALL: dict[str, Any] = {
    "narrative": NARRATIVE,
    "location": {"lat": 39.7392, "lon": -104.9903, "address": ADDRESS},
    "caller": {"phone": PHONE},
}
TRACES = ["Bartholomew", "orchid greenhouse", "Quillfeather", "3035550177", "555-0177"]
OVERDOSE = {
    "narrative": "friend nodding out, lips blue, used fentanyl",
    "location": {"lat": 39.7392, "lon": -104.9903, "address": "1500 Grant St"},
}


def _api(stack: ConsoleStack, method: str, path: str, **kwargs: Any) -> Any:
    response = httpx.request(
        method, stack.dispatch + path, headers=desk_headers(), timeout=30, **kwargs
    )
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


def _until(probe: Any, what: str, timeout_s: float = 30) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if found := probe():
            return found
        time.sleep(0.2)
    raise AssertionError(f"not seen: {what}")


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    yield context
    context.close()


def _sign_in(page: Page, stack: ConsoleStack, username: str) -> None:
    created = httpx.post(
        stack.dispatch + "/v1/users",
        json={
            "username": username,
            "password": GIVEN,
            "display_name": username,
            "roles": ["dispatcher"],
        },
        headers=AUTH,
        # Hashing a password (argon2) takes seconds when the machine is loaded.
        timeout=30,
    )
    assert created.status_code == 201, created.text
    page.goto(stack.dispatch + "/")
    # Before signing in the desk is not drawn at all (not merely empty).
    expect(page.locator("#desk")).to_be_hidden()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(GIVEN)
    page.get_by_role("button", name="Continue").click()
    # An admin's password: the person chooses their own before anything else.
    page.get_by_label("New passphrase", exact=True).fill(PASSWORD)
    page.get_by_label("New passphrase again").fill(PASSWORD)
    page.get_by_role("button", name="Change it and continue").click()
    secret = page.locator("#enrol-secret")
    expect(secret).not_to_be_empty()
    # The secret is shown as an authenticator (and pyotp) takes it: no spaces.
    shown = secret.text_content() or ""
    assert " " not in shown
    page.get_by_label("6-digit code from your authenticator").fill(pyotp.TOTP(shown).now())
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#desk")).to_be_visible()
    expect(page.locator("#connection")).to_have_attribute("data-state", "live")


def _call(stack: ConsoleStack, call: dict[str, Any]) -> dict[str, Any]:
    accepted = _api(stack, "POST", "/v1/calls", json=call)
    view: dict[str, Any] = _until(
        lambda: (
            (v := _api(stack, "GET", f"/v1/incidents/{accepted['incident_id']}"))["triage"] and v
        ),
        "triaged",
    )
    return view


def _open(page: Page, code: str) -> None:
    page.locator("#queue-rows tr", has_text=f"#{code}").click()
    expect(page.locator("#incident-body .incident-head")).to_contain_text(f"#{code}")


def _watch_stream(page: Page) -> dict[str, int]:
    """How many live-stream requests the page opened, and how many have ended."""
    seen = {"opened": 0, "ended": 0}

    def stream(request: Any) -> bool:
        return "/v1/stream" in str(request.url)

    page.on("request", lambda r: seen.__setitem__("opened", seen["opened"] + stream(r)))
    page.on("requestfinished", lambda r: seen.__setitem__("ended", seen["ended"] + stream(r)))
    page.on("requestfailed", lambda r: seen.__setitem__("ended", seen["ended"] + stream(r)))
    return seen


def _assert_nothing_left(page: Page, code: str, seen: dict[str, int]) -> None:
    expect(page.locator("#desk")).to_be_hidden()
    expect(page.locator("#connection")).to_have_attribute("data-state", "off")
    _until(lambda: seen["opened"] and seen["opened"] == seen["ended"], "the live stream closed")
    # Past a tick of the queue's and alerts' timers, which redraw from what is in memory.
    page.wait_for_timeout(1500)
    everything = page.evaluate(
        """() => [
          document.body.innerText,
          document.documentElement.outerHTML,
          ...[...document.querySelectorAll("input, textarea, select")].map((f) => f.value),
          ...[...document.querySelectorAll("*")]
            .flatMap((e) => [...e.attributes].map((a) => a.value)),
        ].join("\\n")"""
    )
    for trace in [*TRACES, f"#{code}"]:
        assert trace not in everything, trace
    # And not in the JavaScript heap either (after a garbage collection).
    cdp = page.context.new_cdp_session(page)
    chunks: list[str] = []
    cdp.on("HeapProfiler.addHeapSnapshotChunk", lambda event: chunks.append(event["chunk"]))
    cdp.send("HeapProfiler.collectGarbage")
    cdp.send("HeapProfiler.takeHeapSnapshot", {"reportProgress": False})
    heap = "".join(chunks)
    for trace in TRACES:
        assert trace not in heap, f"{trace} is still in the page's memory"
    cdp.detach()


def _working_on_the_call(page: Page, stack: ConsoleStack) -> str:
    view = _call(stack, CALL)
    _open(page, view["code"])
    body = page.locator("#incident-body")
    expect(body).to_contain_text("Bartholomew")
    expect(body).to_contain_text("+13035550177")
    expect(body).to_contain_text("Quillfeather")
    # Half-typed into the intake form as well.
    page.get_by_label("What is happening").fill(NARRATIVE)
    page.get_by_label("Address", exact=True).fill(ADDRESS)
    page.get_by_label("Caller phone").fill(PHONE)
    return str(view["code"])


def test_sign_out_leaves_nothing_of_the_last_call_and_closes_the_stream(
    context: BrowserContext, console_stack: ConsoleStack
) -> None:
    page = context.new_page()
    seen = _watch_stream(page)
    _sign_in(page, console_stack, "sam-signout")
    code = _working_on_the_call(page, console_stack)

    page.get_by_role("button", name="Sign out").click()
    expect(page.locator("#sign-in-note")).to_have_text("Signed out.")
    expect(page.get_by_label("Username")).to_be_focused()
    _assert_nothing_left(page, code, seen)
    _no_serious_accessibility_violations(page)  # the sign-in form, as the next person sees it


def test_the_idle_lock_clears_the_screen_as_signing_out_does(
    context: BrowserContext, console_stack: ConsoleStack
) -> None:
    config = httpx.get(console_stack.dispatch + "/console/config.json", timeout=30).json()
    lock_s = config["idle_lock_s"]
    assert lock_s == 600  # the default, from CORESPOND_CONSOLE_IDLE_LOCK_S
    assert config["tile_url"] is None  # no base map unless CORESPOND_CONSOLE_TILE_URL is set
    page = context.new_page()
    page.clock.install()  # the page's clock, moved below instead of waiting ten minutes
    seen = _watch_stream(page)
    _sign_in(page, console_stack, "sam-idle")
    code = _working_on_the_call(page, console_stack)

    page.clock.fast_forward((lock_s + 5) * 1000)
    expect(page.locator("#sign-in-note")).to_contain_text("Locked after 10 min without use")
    _assert_nothing_left(page, code, seen)


def test_the_alerts_panel_puts_a_p1_without_a_unit_on_top_and_drops_what_ended(
    context: BrowserContext, console_stack: ConsoleStack
) -> None:
    page = context.new_page()
    # Offline by default: with no tile URL the filled desk (map included) asks no other host.
    ours = (console_stack.dispatch, console_stack.notify, console_stack.stack.url("triage"))
    outside: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(ours) else outside.append(r.url))
    _sign_in(page, console_stack, "sam-alerts")
    emts = [u for u in _api(console_stack, "GET", "/v1/units") if "emt" in u["roles"]]
    for unit in emts:  # no EMT on duty: a P1 overdose's EMT role has nobody
        _api(console_stack, "POST", f"/v1/units/{unit['id']}/status", json={"status": "off_duty"})
    try:
        p1 = _call(console_stack, OVERDOSE)
        assert p1["triage"]["priority"] == 1
        # A later, lesser alert: a warm handoff nobody can take (no providers loaded).
        other = _call(console_stack, CALL)
        _api(
            console_stack,
            "POST",
            f"/v1/incidents/{other['id']}/handoffs",
            json={"service": "detox"},
        )
        panel = page.locator("#alerts")
        first = page.locator("#alert-list li").first
        handoff = page.locator(
            '#alert-list li[data-kind="handoff_unplaced"]', has_text=other["code"]
        )
        expect(handoff).to_be_visible()
        expect(panel).to_have_attribute("data-urgent", "true")
        expect(first).to_have_class(re.compile(r"\burgent\b"))
        expect(first).to_contain_text(f"#{p1['code']}")
        expect(first).to_contain_text("Role unfilled")
        expect(page.locator("#alert-count")).to_contain_text("P1 with a role unfilled")
        red = first.evaluate("(e) => getComputedStyle(e).borderLeftColor")
        assert red == "rgb(176, 0, 32)"  # --p1

        # The queue: urgency first, with the nature, the address and the role nobody fills.
        top = page.locator("#queue-rows tr[data-id]").first
        expect(top).to_contain_text(f"#{p1['code']}")
        expect(top).to_contain_text("1500 Grant St")
        expect(top.locator("td.unfilled")).to_contain_text("emt")
        expect(top).to_contain_text(p1["triage"]["category"].replace("_", " "))
        # Search by the caller's phone (the server matches the decrypted number).
        page.get_by_label("Search code, address or phone").fill("303 555 0177")
        expect(page.locator("#queue-rows tr", has_text=f"#{other['code']}")).to_be_visible()
        expect(page.locator("#queue-rows tr", has_text=f"#{p1['code']}")).to_have_count(0)
        page.get_by_label("Search code, address or phone").fill("")
        expect(page.locator("#queue-rows tr", has_text=f"#{p1['code']}")).to_be_visible()

        page.set_viewport_size({"width": 1920, "height": 1080})
        _open(page, p1["code"])
        _screenshot_fits(page, "console-1920x1080.png")
        _no_serious_accessibility_violations(page)

        urgent = page.locator("#alert-list li.urgent", has_text=f"#{p1['code']}").first
        urgent.get_by_role("button", name="Acknowledge").click()
        taken = page.locator("#alert-list li", has_text=f"#{p1['code']}").first
        expect(taken).to_contain_text("Acknowledged by sam-alerts")
        expect(panel).to_have_attribute("data-urgent", "false")

        # The incident closes: its alerts leave the list by themselves, live.
        _api(
            console_stack,
            "POST",
            f"/v1/incidents/{p1['id']}/close",
            json={"disposition": "transported"},
        )
        expect(page.locator("#alert-list li", has_text=f"#{p1['code']}")).to_have_count(0)
        expect(handoff).to_be_visible()

        page.set_viewport_size({"width": 640, "height": 1000})
        page.screenshot(path=str(screenshot_path("console-640.png")))
        assert outside == [], outside
    finally:
        for unit in emts:
            _api(
                console_stack,
                "POST",
                f"/v1/units/{unit['id']}/status",
                json={"status": "available"},
            )


def _screenshot_fits(page: Page, name: str) -> None:
    """At 1920 x 1080 queue, incident and units are all in view; the page does not scroll."""
    scroll = page.evaluate(
        "[document.documentElement.scrollHeight - innerHeight,"
        " document.documentElement.scrollWidth - innerWidth]"
    )
    boxes = page.evaluate(
        "['.bar','main','#desk','#intake','#alerts','#queue','#units','#incident']"
        ".map(s => [s, JSON.stringify(document.querySelector(s).getBoundingClientRect())])"
    )
    assert scroll == [0, 0], (scroll, boxes)
    for panel in ("#alerts", "#queue", "#incident", "#units", "#intake"):
        box = page.locator(panel).bounding_box()
        assert box is not None
        assert box["y"] >= 0, (panel, box)
        assert box["y"] + box["height"] <= 1080 + 1, (panel, box)
        assert box["x"] >= 0, (panel, box)
        assert box["x"] + box["width"] <= 1920 + 1, (panel, box)
    page.screenshot(path=str(screenshot_path(name)))


def _no_serious_accessibility_violations(page: Page) -> None:
    """axe-core (bundled by axe-playwright-python) over the whole desk, every panel filled."""
    results = Axe().run(page)
    serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert not serious, results.generate_report()
