"""Errors as RFC 9457 problem+json, mapped in one place for every service.

Validation failures name each offending field (``location.lat``), malformed JSON
included (the field being written where the JSON broke, not a character
offset); domain errors map to their status through the table each service
passes in; anything else is a 500 that says nothing about internals.

One problem ``type`` per kind of error, whoever raises it (``PROBLEM_TYPES``;
the README lists them): a client branches on ``type`` and shows ``detail``.
"""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path
from starlette.types import Scope

from schemas.api import Problem, ProblemField
from services.common.json_position import line_and_column, path_at

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


# status -> type. A problem raised without a type of its own gets its status's.
PROBLEM_TYPES: dict[int, str] = {
    400: "/problems/bad-request",
    401: "/problems/unauthenticated",
    403: "/problems/forbidden",
    404: "/problems/not-found",
    405: "/problems/method-not-allowed",
    406: "/problems/not-acceptable",
    409: "/problems/conflict",
    413: "/problems/too-large",
    415: "/problems/unsupported-media-type",
    422: "/problems/validation-error",
    423: "/problems/locked",
    429: "/problems/too-many-requests",
    500: "/problems/internal-error",
    503: "/problems/unavailable",
}
# Kinds that share a status with another but need their own handling by a client.
AUDIT_UNAVAILABLE = "/problems/audit-unavailable"


def problem_type(status: int) -> str:
    return PROBLEM_TYPES.get(status, f"/problems/http-{status}")


def problem_response(problem: Problem, headers: dict[str, str] | None = None) -> JSONResponse:
    if problem.type == "about:blank":
        problem = problem.model_copy(update={"type": problem_type(problem.status)})
    return JSONResponse(
        problem.model_dump(exclude_none=True),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header"}:
        parts = parts[1:] if len(parts) > 1 else parts
    return ".".join(parts) or "(body)"


def _validation_field(err: dict[str, Any], body: Any) -> ProblemField:
    if err.get("type") == "json_invalid" and isinstance(body, str):
        # The decoder's location is a character offset; say which field it was in.
        offset = int(err["loc"][-1]) if err.get("loc") else 0
        line, column = line_and_column(body, offset)
        reason = str((err.get("ctx") or {}).get("error") or err.get("msg"))
        return ProblemField(
            field=path_at(body, offset) or "(body)",
            message=f"malformed JSON at line {line}, column {column}: {reason}",
        )
    return ProblemField(field=_field_name(tuple(err.get("loc", ()))), message=str(err["msg"]))


def install_problem_handlers(app: FastAPI, domain_errors: dict[type[Exception], int]) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [_validation_field(dict(err), exc.body) for err in exc.errors()]
        detail = "; ".join(f"{f.field}: {f.message}" for f in fields[:5])
        return problem_response(
            Problem(
                type=problem_type(422),
                title="The request is not valid",
                status=422,
                detail=detail,
                instance=request.url.path,
                errors=fields,
            )
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            headers["Allow"] = allowed_methods(app, request.scope)
        return problem_response(
            Problem(
                title=_title(exc.status_code),
                status=exc.status_code,
                detail=str(exc.detail),
                instance=request.url.path,
            ),
            headers=headers or None,
        )

    for error_type, status_code in domain_errors.items():

        async def _domain(
            request: Request, exc: Exception, _status: int = status_code
        ) -> JSONResponse:
            return problem_response(
                Problem(
                    type=problem_type(_status),
                    title=_title(_status),
                    status=_status,
                    detail=str(exc),
                    instance=request.url.path,
                )
            )

        app.add_exception_handler(error_type, _domain)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("http.unhandled_error", extra={"path": request.url.path})
        return problem_response(
            Problem(title="Internal Server Error", status=500, instance=request.url.path)
        )


def allowed_methods(app: FastAPI, scope: Scope) -> str:
    """Every method some route takes at this path, for a 405's ``Allow`` (RFC 9110 15.5.6).

    Starlette names only the methods of the first route whose path matched (and
    FastAPI 0.165 nests included routers, so often none): FastAPI makes one route
    per method, so ``GET`` and ``POST /v1/units`` would each answer the other's 405
    with half the truth or nothing.
    """
    path = scope["path"]
    root = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]  # routes match below a proxy's prefix, as Starlette does
    methods: set[str] = set()
    for route in iter_route_contexts(app.routes):
        if route.path is None or not route.methods:
            continue  # a mount: it answers its own 405s
        pattern, _, _ = compile_path(route.path)
        if pattern.match(path):
            methods |= set(route.methods)
    return ", ".join(sorted(methods))


def _title(status_code: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return "Error"
