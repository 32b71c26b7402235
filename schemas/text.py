"""Text from outside: what may be stored, shown and texted (DESIGN.md, "The edge sanitises").

A NUL in an address is refused by PostgreSQL (the offer then dead-letters and
no SMS goes out) and kept by SQLite; a CR/LF or a bidi override in an address
lets a caller write lines of their own into a responder's SMS ("IGNORE ABOVE.
Reply Y ..."). So text is checked once, at the edge, the same on every
database:

- ``Line``: one line of text (a name, an address, a reason). Refused with a
  422 naming the field if it holds any C0 or C1 control character (tab and
  line breaks included), DEL, a line or paragraph separator, or a bidi
  override or isolate (U+202A-U+202E, U+2066-U+2069).
- ``Text``: text where several lines are legitimate (a call's narrative, a
  closing note): the same, except that tab, LF and CR are allowed.
- ``clean_line`` / ``clean_text`` strip instead of refusing, for input no one
  can be told "422" about: an SMS from a phone. ``sms_line`` is what an SMS
  template may put in a message: cleaned to one line and capped.

The JSON schema of ``Line`` and ``Text`` carries the rule as a ``pattern``, so
clients (and the OpenAPI fuzzer) know it.
"""

import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, Field, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

# Bidi embeddings/overrides (U+202A-U+202E) and isolates (U+2066-U+2069): they reorder
# what a reader sees. The marks (LRM, RLM, ALM) only nudge neutral characters; SMS
# text drops them too (see _INVISIBLE).
_BIDI = "\u202a-\u202e\u2066-\u2069"
# Everything a single line must not hold: C0 (tab and line breaks too), DEL, C1,
# the Unicode line and paragraph separators, bidi controls.
_NOT_IN_LINE = f"\x00-\x1f\x7f-\x9f\u2028\u2029{_BIDI}"
# Multi-line text may keep tab, LF and CR; nothing else of the above.
_NOT_IN_TEXT = f"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029{_BIDI}"
_LINE_BAD = re.compile(f"[{_NOT_IN_LINE}]")
_TEXT_BAD = re.compile(f"[{_NOT_IN_TEXT}]")
# Invisible characters an SMS reader cannot see but a phone still acts on.
_INVISIBLE = re.compile(f"[{_BIDI}\u200b-\u200f\u061c\ufeff]")
_SPACES = re.compile(r"\s+")


def _ecma(chars: str) -> str:
    """A character class as JSON Schema (ECMA-262) writes it: ``\\uXXXX`` escapes only."""
    return "".join(c if c == "-" else f"\\u{ord(c):04x}" for c in chars)


LINE_PATTERN = f"^[^{_ecma(_NOT_IN_LINE)}]*$"
TEXT_PATTERN = f"^[^{_ecma(_NOT_IN_TEXT)}]*$"


def _describe(char: str) -> str:
    return f"U+{ord(char):04X}"


def line_problem(value: str) -> str | None:
    """What is wrong with ``value`` as one line of text, or None."""
    if found := _LINE_BAD.search(value):
        return (
            f"contains {_describe(found.group())}: control characters, line breaks and "
            "bidi overrides are not allowed here"
        )
    return None


def refuse_in_line(value: str) -> str:
    """The value as given, or ValueError naming the first character a line may not hold."""
    if problem := line_problem(value):
        raise ValueError(problem)
    return value


def refuse_in_text(value: str) -> str:
    """The value as given, or ValueError naming the first character text may not hold."""
    if found := _TEXT_BAD.search(value):
        raise ValueError(
            f"contains {_describe(found.group())}: control characters (other than tab and "
            "line breaks) and bidi overrides are not allowed here"
        )
    return value


def clean_line(value: str) -> str:
    """One line: invisible characters dropped, controls and line breaks made spaces, spaces
    collapsed, ends trimmed."""
    value = _INVISIBLE.sub("", value)
    value = _LINE_BAD.sub(" ", value)
    return _SPACES.sub(" ", value).strip()


def clean_text(value: str) -> str:
    """Text: controls other than tab, LF and CR, and invisible characters, removed."""
    return _TEXT_BAD.sub("", _INVISIBLE.sub("", value))


def sms_line(value: str, cap: int) -> str:
    """What a template may put in an SMS: one clean line, at most ``cap`` characters."""
    value = clean_line(value)
    if len(value) > cap:
        value = value[: max(cap - 1, 0)].rstrip() + "…"
    return value


@dataclass(frozen=True)
class NoControls:
    """Pydantic metadata: refuse what ``Line`` or ``Text`` refuses, and document it.

    Put it after any ``StringConstraints`` (``Annotated[str, StringConstraints(...),
    ONE_LINE]``): pydantic applies constraints written after a validator loosely. It
    checks the text as sent, before any stripping, so what the documented ``pattern``
    forbids is refused even at the ends (a stripped "\x85" would otherwise pass).
    """

    multiline: bool

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        check = refuse_in_text if self.multiline else refuse_in_line

        def before(value: Any) -> Any:
            return check(value) if isinstance(value, str) else value

        return core_schema.no_info_before_validator_function(before, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        documented = handler(schema)
        documented["pattern"] = TEXT_PATTERN if self.multiline else LINE_PATTERN
        return documented


ONE_LINE = NoControls(multiline=False)
MULTI_LINE = NoControls(multiline=True)

Line = Annotated[str, ONE_LINE]
"""One line of text from a caller: refused (422) if it holds a control, break or bidi character.

With constraints, write ``Annotated[str, StringConstraints(...), ONE_LINE]`` (see NoControls).
"""

Text = Annotated[str, MULTI_LINE]
"""Multi-line text from a caller: as ``Line``, but tab, LF and CR are allowed."""

# "x-cleaned" tells readers of the OpenAPI (and the test that every body field is
# checked) that this text is cleaned rather than refused. Cleaning runs after the
# field's length limits, which therefore hold for the text as sent, as documented.
_CLEANED = Field(json_schema_extra={"x-cleaned": True})
CleanLine = Annotated[str, AfterValidator(clean_line), _CLEANED]
"""One line from a source that cannot be refused (an SMS): cleaned, never refused."""

CleanText = Annotated[str, AfterValidator(clean_text), _CLEANED]
"""Multi-line text from a source that cannot be refused (an SMS body): cleaned, never refused."""


# What an id a caller sends in a header may look like: short, printable, no spaces. An id
# that does not fit is replaced (or ignored), never trusted into a column with a limit.
_SAFE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
MAX_ID_CHARS = 128


def safe_id(value: str | None) -> str | None:
    """``value`` if it is a usable caller-supplied id (1-128 of ``A-Za-z0-9._:-``), else None."""
    if value is not None and _SAFE_ID.fullmatch(value):
        return value
    return None
