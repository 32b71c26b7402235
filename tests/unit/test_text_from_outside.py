"""Text from outside: refused at the edge, cleaned where it cannot be refused, ids bounded."""

import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from schemas.text import (
    LINE_PATTERN,
    TEXT_PATTERN,
    Line,
    Text,
    clean_line,
    clean_text,
    safe_id,
    sms_line,
)
from services.dispatch.main import DispatchSettings
from services.dispatch.main import create_app as create_dispatch
from services.notify.main import NotifySettings
from services.notify.main import create_app as create_notify
from services.triage.main import TriageSettings
from services.triage.main import create_app as create_triage
from tests.support.inprocess import DATA_KEYS

# One of each kind the edge refuses: C0, DEL, C1, separators, bidi overrides and isolates.
NEVER = ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\x9f", "\u2028", "\u2029"]
NEVER += [chr(c) for c in range(0x202A, 0x202F)] + [chr(c) for c in range(0x2066, 0x206A)]
BREAKS = ["\t", "\n", "\r"]


class Body(BaseModel):
    line: Line = "ok"
    text: Text = "ok"


@pytest.mark.parametrize("char", NEVER + BREAKS)
def test_a_line_refuses_controls_breaks_and_bidi_naming_the_character(char: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Body(line=f"12 Main St{char}Reply Y")
    assert f"U+{ord(char):04X}" in str(refused.value)


@pytest.mark.parametrize("char", NEVER)
def test_text_refuses_controls_and_bidi(char: str) -> None:
    with pytest.raises(ValidationError):
        Body(text=f"first{char}second")


@pytest.mark.parametrize("char", BREAKS)
def test_text_keeps_tabs_and_line_breaks(char: str) -> None:
    assert Body(text=f"first{char}second").text == f"first{char}second"


def test_ordinary_text_in_any_script_passes() -> None:
    for value in ("Calle 5 #12, Ñuñoa", "مركز المدينة", "東京都", "Zoë's café — 3rd fl."):
        assert Body(line=value, text=value).line == value


def test_the_documented_pattern_says_the_same_as_the_check() -> None:
    """The OpenAPI carries the rule as a pattern; clients and the fuzzer read it there."""
    line, text = re.compile(_python(LINE_PATTERN)), re.compile(_python(TEXT_PATTERN))
    for char in NEVER:
        assert not line.match(f"a{char}b")
        assert not text.match(f"a{char}b")
    for char in BREAKS:
        assert not line.match(f"a{char}b")
        assert text.match(f"a{char}b")
    assert line.match("Calle 5 #12, Ñuñoa")
    assert text.match("Calle 5 #12, Ñuñoa")


def _python(ecma: str) -> str:
    return ecma.replace("$", r"\Z")


def test_cleaning_never_refuses() -> None:
    dirty = "Y\u202e 4821\x00\r\nthanks\x1b"
    assert clean_line(dirty) == "Y 4821 thanks"
    assert clean_text(dirty) == "Y 4821\r\nthanks"
    assert sms_line("x" * 50, 10) == "x" * 9 + "…"


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("a1b2-c3.d4:e5_f6", True),
        ("x" * 128, True),
        ("x" * 129, False),
        ("", False),
        ("has space", False),
        ("nul\x00", False),
        ("ünïcode", False),
    ],
)
def test_a_caller_supplied_id_is_kept_only_if_short_and_plain(given: str, kept: bool) -> None:
    assert safe_id(given) == (given if kept else None)
    assert safe_id(None) is None


def _service_openapi(service: str) -> dict[str, Any]:
    options: dict[str, Any] = {"data_dir": Path(tempfile.gettempdir()), "data_keys": DATA_KEYS}
    if service == "dispatch":
        return create_dispatch(DispatchSettings(**options)).openapi()
    if service == "triage":
        return create_triage(TriageSettings(**options)).openapi()
    return create_notify(NotifySettings(**options)).openapi()


def _unchecked_strings(schema: Any, document: dict[str, Any], where: str) -> Iterator[str]:
    """Every string in a request body that neither a pattern, an enum nor cleaning governs."""
    if isinstance(schema, list):
        for number, item in enumerate(schema):
            yield from _unchecked_strings(item, document, f"{where}[{number}]")
        return
    if not isinstance(schema, dict):
        return
    if ref := schema.get("$ref"):
        name = ref.rsplit("/", 1)[-1]
        yield from _unchecked_strings(document["components"]["schemas"][name], document, where)
        return
    governed = {"pattern", "enum", "const", "format", "x-cleaned"}
    if schema.get("type") == "string" and not governed & schema.keys():
        yield where
    for key in ("properties", "$defs"):
        for name, sub in schema.get(key, {}).items():
            yield from _unchecked_strings(sub, document, f"{where}.{name}")
    for key in ("items", "anyOf", "oneOf", "allOf", "additionalProperties"):
        if key in schema:
            yield from _unchecked_strings(schema[key], document, where)


@pytest.mark.parametrize("service", ["dispatch", "triage", "notify"])
def test_every_text_field_of_every_request_body_is_checked(service: str) -> None:
    """A new request field typed plain ``str`` would let a NUL through to storage or an SMS."""
    document = _service_openapi(service)
    unchecked = [
        where
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        for media in operation.get("requestBody", {}).get("content", {}).values()
        for where in _unchecked_strings(media["schema"], document, f"{method} {path}")
    ]
    assert unchecked == [], "type these with schemas.text (Line, Text, ONE_LINE, ...)"
