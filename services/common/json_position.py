"""Where in a JSON document a parse error happened, as a field path (``answers.weapons``).

A decoder reports a character offset; a person fixing a request wants the field.
The text before the offset is walked once, keeping the stack of objects and arrays
open at that point and the key (or index) being written in each.
"""

from dataclasses import dataclass


@dataclass
class _Open:
    in_array: bool
    index: int = 0
    key: str | None = None
    expecting_key: bool = True


def path_at(text: str, offset: int) -> str:
    """The dotted path of the value being written at ``offset`` ("" at the top level)."""
    stack: list[_Open] = []
    i, end = 0, min(offset, len(text))
    while i < end:
        char = text[i]
        if char == '"':
            closing = _string_end(text, i, end)
            top = stack[-1] if stack else None
            if top is not None and not top.in_array and top.expecting_key:
                top.key = text[i + 1 : closing]
            i = closing + 1
            continue
        if char in "{[":
            stack.append(_Open(in_array=char == "["))
        elif char in "}]" and stack:
            stack.pop()
        elif char == ":" and stack and not stack[-1].in_array:
            stack[-1].expecting_key = False
        elif char == "," and stack:
            top = stack[-1]
            if top.in_array:
                top.index += 1
            else:
                top.key, top.expecting_key = None, True
        i += 1
    parts: list[str] = []
    for level in stack:
        if level.in_array:
            parts.append(str(level.index))
        elif level.key is not None:
            parts.append(level.key)
        else:
            break  # between keys: the object itself is where it went wrong
    return ".".join(parts)


def _string_end(text: str, start: int, end: int) -> int:
    """The index of the quote closing the string opened at ``start`` (or ``end``)."""
    i = start + 1
    while i < end:
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == '"':
            return i
        i += 1
    return end


def line_and_column(text: str, offset: int) -> tuple[int, int]:
    """1-based, as editors count."""
    before = text[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1
