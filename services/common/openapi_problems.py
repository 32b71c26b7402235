"""The published OpenAPI describes errors as they are sent: RFC 9457 problem+json.

Every error leaves through ``services/common/problems.py`` as
``application/problem+json``, but FastAPI documents error responses as
``application/json`` (its own ``HTTPValidationError`` for 422), so a client
generated from ``/openapi.json`` would mis-read every error. This rewrites the
document once, when it is first built:

- every 4xx/5xx response of every operation is ``application/problem+json``
  with the ``Problem`` schema;
- an operation behind a bearer token also declares 401 and 403, which the
  auth dependency can answer on any of them;
- an operation taking a body also declares 422 (FastAPI adds it only for
  bodies it reads itself), 400 (a body that cannot be read
  as its content type at all, such as bytes that are not UTF-8 JSON; JSON
  that is merely malformed is a 422 naming the position) and 413 (the body
  limit in ``services/common/guards.py``).

Routes still declare their own domain errors (404, 409, ...) with a
description; only the media type and schema are filled in here.

Every operation also declares the optional ``X-Request-ID`` header that
``services/common/http.py`` reads: any value is accepted (one that is not 1-128
characters of ``A-Za-z0-9._:-`` is replaced), so clients know of it and the
OpenAPI fuzzer sends odd ones.
"""

import json
from typing import Any

from fastapi import FastAPI

from schemas.api import Problem
from services.common.problems import PROBLEM_JSON

SCHEMAS_REF = "#/components/schemas/"
PROBLEM_CONTENT = {PROBLEM_JSON: {"schema": {"$ref": f"{SCHEMAS_REF}Problem"}}}
AUTH_ERRORS = {
    "401": "no bearer token, or one that is not valid",
    "403": "the caller's roles do not allow this",
}
BODY_ERRORS = {
    "400": "the body cannot be read as its content type",
    "422": "a field is missing or not valid; `errors` names each",
    "413": "the request body is larger than the service accepts",
}
REQUEST_ID = {
    "name": "X-Request-ID",
    "in": "header",
    "required": False,
    "description": "the caller's id for this request, echoed back and kept as the correlation "
    "id of what it causes; replaced by a new one unless 1-128 characters of A-Za-z0-9._:-",
    "schema": {"type": "string"},
}
# FastAPI's own 422 body, which our validation errors never use.
UNUSED_DEFAULTS = ("HTTPValidationError", "ValidationError")


def document_problems(app: FastAPI) -> None:
    """Make ``app.openapi()`` return the document with its errors described as problem+json."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = with_problems(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def with_problems(document: dict[str, Any]) -> dict[str, Any]:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    problem = Problem.model_json_schema(ref_template=SCHEMAS_REF + "{model}")
    schemas.update(problem.pop("$defs", {}))
    schemas["Problem"] = problem
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            _describe_errors(operation)
            operation.setdefault("parameters", []).append(REQUEST_ID)
    for name in UNUSED_DEFAULTS:
        if f'"{SCHEMAS_REF}{name}"' not in json.dumps(document["paths"]):
            schemas.pop(name, None)
    return document


def _describe_errors(operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    if operation.get("security"):
        for status, description in AUTH_ERRORS.items():
            responses.setdefault(status, {"description": description})
    if "requestBody" in operation:
        for status, description in BODY_ERRORS.items():
            responses.setdefault(status, {"description": description})
    for status, response in responses.items():
        if status[0] in "45" or status == "default":
            response["content"] = PROBLEM_CONTENT
