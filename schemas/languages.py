"""Language tags (BCP 47, RFC 5646): a caller's language and the languages a unit speaks.

``LanguageTag`` accepts a well-formed tag — a 2-3 letter ISO 639 language,
an optional extended language, script (``Latn``), region (``MX``, ``419``),
variants, extensions and a private use part, e.g. ``es``, ``en-US``, ``vi``,
``zh-Hant-TW``, ``es-419``, ``ase`` — and stores it in its canonical case
(``EN-us`` → ``en-US``). Anything else is refused with a 422 naming the field.

Well-formed, not registry-checked: the IANA subtag registry changes, and a
dispatcher typing ``haw`` (Hawaiian) must not need a release. RFC 5646's
grammar is small and stable, so it is written here rather than pulled in
as a dependency. Not accepted: the 4-8 letter primary subtags the RFC reserves
(none is registered, and they would let ``Spanish`` through) and grandfathered
tags (``i-klingon``).
"""

import re
from typing import Annotated

from pydantic import AfterValidator, Field

# RFC 5646's langtag, one subtag per line; the classes hold both cases, as tags are
# case-insensitive (the canonical case is restored below).
_GRAMMAR = (
    r"^(?P<language>[A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3})"
    r"(?:-(?P<script>[A-Za-z]{4}))?"
    r"(?:-(?P<region>[A-Za-z]{2}|[0-9]{3}))?"
    r"(?:-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*"
    r"(?:-[0-9A-WY-Za-wy-z](?:-[A-Za-z0-9]{2,8})+)*"
    r"(?:-[Xx](?:-[A-Za-z0-9]{1,8})+)?$"
)
_TAG = re.compile(_GRAMMAR)
# The same grammar for the JSON schema (clients and the OpenAPI fuzzer read it): no
# named groups, which JSON Schema's regex dialect lacks.
PATTERN = re.sub(r"\?P<\w+>", "", _GRAMMAR)
MAX_TAG_CHARS = 35  # RFC 5646 §4.4.1: room for any tag a system needs to keep


def canonical_tag(value: str) -> str:
    """``value`` as a well-formed BCP 47 tag in canonical case; ValueError if it is not one."""
    text = value.strip()
    match = _TAG.match(text) if len(text) <= MAX_TAG_CHARS else None
    if match is None:
        raise ValueError(
            f"{value[:40]!r} is not a BCP 47 language tag (e.g. es, en-US, vi, zh-Hant-TW)"
        )
    parts = text.lower().split("-")
    # Case conventions (RFC 5646 §2.1.1): script in title case, region upper case,
    # everything else lower; only subtags before any extension or private use part.
    out = [parts[0]]
    for index, part in enumerate(parts[1:], start=1):
        if len(out[-1]) == 1:  # after a singleton (x-, u-, ...): left as is
            out.extend(parts[index:])
            break
        if len(part) == 4 and part.isalpha() and (match.group("script") or "").lower() == part:
            out.append(part.title())
        elif (match.group("region") or "").lower() == part and len(part) == 2:
            out.append(part.upper())
        else:
            out.append(part)
    return "-".join(out)


def primary_language(tag: str) -> str:
    """The language a tag names, without script, region or variants: ``es-MX`` → ``es``."""
    return tag.split("-", 1)[0].lower()


LanguageTag = Annotated[
    str,
    Field(
        min_length=2,
        max_length=MAX_TAG_CHARS,
        pattern=PATTERN,
        description="a BCP 47 language tag, e.g. es, en-US, vi",
        examples=["es", "en-US", "vi"],
    ),
    AfterValidator(canonical_tag),
]
