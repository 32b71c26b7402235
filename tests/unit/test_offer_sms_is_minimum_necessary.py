"""An offer SMS carries a code, a role, a place and how to answer; nothing clinical, no names."""

import pytest

from schemas.vocabulary import AlertKind, Role
from services.notify.domain.templates import (
    SMS_MAX_CHARS,
    FollowUpText,
    OfferText,
    render_alert,
    render_follow_up,
    render_handoff,
    render_offer,
    render_withdrawn,
)

FORBIDDEN = (
    "overdose",
    "fentanyl",
    "heroin",
    "opioid",
    "suicid",
    "psych",
    "voices",
    "naloxone",
    "narcan",
    "drunk",
    "meth",
    "diagnos",
    "dob",
    "born",
    "weapon",
    "gun",
    "knife",
)


LINK = "https://corespond.example.org/r/" + "A" * 32


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize(
    ("address", "lat", "lon"),
    [
        ("1437 Bannock St", 39.7392, -104.9903),
        (None, 39.7392, -104.9903),
        (None, None, None),
        ("x" * 300, None, None),
    ],
)
@pytest.mark.parametrize("link", [LINK, None])
def test_offer_text(
    role: Role, address: str | None, lat: float | None, lon: float | None, link: str | None
) -> None:
    text = render_offer(OfferText("4821", role, 1, address, lat, lon, link))

    assert "#4821" in text
    assert "Y 4821" in text
    assert "N 4821" in text
    assert len(text) <= SMS_MAX_CHARS
    assert not [word for word in FORBIDDEN if word in text.lower()]
    if address and len(address) < 100:
        assert address in text
    if link:
        label = "Join" if role == Role.TELEHEALTH else "Open"
        assert text.endswith(f"{label}: {link}")  # whole, never cut


VIDEO = "https://corespond.example.org/t/" + "B" * 32


@pytest.mark.parametrize("role", [Role.EMT, Role.POLICE])
@pytest.mark.parametrize("address", ["1437 Bannock St", "x" * 300])
def test_the_unit_on_scene_of_a_video_call_gets_its_page_and_the_room(
    role: Role, address: str
) -> None:
    text = render_offer(OfferText("4821", role, 1, address, None, None, LINK, VIDEO))

    assert text.endswith(f"Open: {LINK} Video: {VIDEO}")  # both whole, never cut
    assert "Y 4821" in text
    assert len(text) <= SMS_MAX_CHARS
    assert not [word for word in FORBIDDEN if word in text.lower()]


@pytest.mark.parametrize("address", ["1437 Bannock St", None])
def test_a_follow_up_reminder_says_where_and_never_why(address: str | None) -> None:
    text = render_follow_up(FollowUpText("4821", address, 39.7392, -104.9903))
    assert "#4821" in text
    assert len(text) <= SMS_MAX_CHARS
    assert not [word for word in FORBIDDEN if word in text.lower()]


def test_a_handoff_request_and_a_withdrawal_say_nothing_about_the_person() -> None:
    for text in (
        render_handoff("4821", "Withdrawal management bed"),
        render_withdrawn("4821"),
    ):
        assert "#4821" in text
        assert len(text) <= SMS_MAX_CHARS
        # The provider's own service name is the one clinical-sounding phrase allowed.
        scrubbed = text.lower().replace("withdrawal management bed", "")
        assert not [word for word in FORBIDDEN if word in scrubbed]


@pytest.mark.parametrize("kind", list(AlertKind))
def test_a_supervisor_page_names_the_incident_and_the_problem_only(kind: AlertKind) -> None:
    text = render_alert("4821", kind)
    assert "#4821" in text
    assert len(text) <= SMS_MAX_CHARS
    assert not [word for word in FORBIDDEN if word in text.lower()]


# What a hostile caller might put in an address to write into a responder's SMS.
HOSTILE = (
    "1437 Bannock St\r\nIGNORE ABOVE. Reply Y 0000\u202e\u2066 evil\u2069\x00\x1b[2J\x85\u2028x"
)


def _one_plain_line(text: str) -> None:
    assert text.isprintable() or all(c.isprintable() or c == " " for c in text)
    for bad in ("\r", "\n", "\x00", "\x1b", "\x85", "\u2028", "\u202e", "\u2066", "\u2069"):
        assert bad not in text


@pytest.mark.parametrize("link", [LINK, None])
def test_a_hostile_address_reaches_an_offer_as_one_plain_line(link: str | None) -> None:
    text = render_offer(OfferText("4821", Role.CLINICIAN, 1, HOSTILE, None, None, link))

    _one_plain_line(text)
    assert "1437 Bannock St IGNORE ABOVE." in text  # kept as words, on the same line
    assert text.count("Reply Y 4821") == 1
    assert len(text) <= SMS_MAX_CHARS


def test_every_field_is_capped_so_how_to_answer_always_arrives() -> None:
    text = render_offer(OfferText("4821" * 40, Role.EMT, 1, "x" * 5000, None, None, LINK))
    assert len(text) <= SMS_MAX_CHARS
    assert text.endswith(f"Open: {LINK}")


def test_hostile_text_is_cleaned_in_every_template() -> None:
    code = "48\r\n21\u202e"
    texts = [
        render_follow_up(FollowUpText(code, HOSTILE, None, None)),
        render_handoff(code, HOSTILE),
        render_withdrawn(code),
        render_alert(code, AlertKind.ROLE_UNFILLED),
    ]
    for text in texts:
        _one_plain_line(text)
        assert "#48 21" in text
        assert len(text) <= SMS_MAX_CHARS
