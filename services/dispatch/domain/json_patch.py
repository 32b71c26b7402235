"""RFC 6902 JSON Patch (add, remove, replace, test) over a plain JSON document, pure.

Enough for a FHIR client's ``PATCH`` of a Task (``replace /status``, ``add
/statusReason``, ``test /meta/versionId``); ``move`` and ``copy`` are refused.
Written here rather than taken from a library because it is forty lines and the
FHIR route needs its errors to name the operation that failed.
"""

import copy
from typing import Any


class PatchError(ValueError):
    """A patch that is malformed or does not apply; the message names the operation."""


class PatchTestFailed(PatchError):
    """A ``test`` operation found another value: the resource changed since it was read."""


def _tokens(pointer: str) -> list[str]:
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise PatchError(f"{pointer!r} is not a JSON Pointer")
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def _parent(doc: Any, tokens: list[str], where: str) -> tuple[Any, str]:
    node = doc
    for token in tokens[:-1]:
        if isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        elif isinstance(node, dict) and token in node:
            node = node[token]
        else:
            raise PatchError(f"{where}: the path does not exist")
    return node, tokens[-1]


def apply(document: dict[str, Any], patch: object) -> dict[str, Any]:
    if not isinstance(patch, list):
        raise PatchError("a JSON Patch is a list of operations")
    doc = copy.deepcopy(document)
    for number, op in enumerate(patch):
        where = f"operation {number}"
        if not isinstance(op, dict) or not isinstance(op.get("path"), str):
            raise PatchError(f"{where}: needs an 'op' and a 'path'")
        kind, tokens = op.get("op"), _tokens(op["path"])
        if not tokens:
            raise PatchError(f"{where}: the whole resource cannot be patched")
        if kind in ("add", "replace", "test") and "value" not in op:
            raise PatchError(f"{where}: needs a 'value'")
        parent, key = _parent(doc, tokens, where)
        if isinstance(parent, list):
            raise PatchError(f"{where}: array elements are not patched here")
        if not isinstance(parent, dict):
            raise PatchError(f"{where}: the path does not exist")
        if kind == "add":
            parent[key] = op["value"]
        elif kind == "replace" or kind == "remove":
            if key not in parent:
                raise PatchError(f"{where}: {op['path']} does not exist")
            if kind == "replace":
                parent[key] = op["value"]
            else:
                del parent[key]
        elif kind == "test":
            if parent.get(key) != op["value"]:
                raise PatchTestFailed(f"{where}: test of {op['path']} failed")
        else:
            raise PatchError(f"{where}: op {kind!r} is not supported (add, remove, replace, test)")
    return doc
