"""Errors as RFC 9457 problem+json, mapped in one place for every service.

Validation failures name each offending field (``location.lat``); domain errors
map to their status through the table each service passes in; anything else is
a 500 that says nothing about internals.
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

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


def problem_response(problem: Problem, headers: dict[str, str] | None = None) -> JSONResponse:
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


def install_problem_handlers(app: FastAPI, domain_errors: dict[type[Exception], int]) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [
            ProblemField(field=_field_name(tuple(err.get("loc", ()))), message=str(err["msg"]))
            for err in exc.errors()
        ]
        detail = "; ".join(f"{f.field}: {f.message}" for f in fields[:5])
        return problem_response(
            Problem(
                type="/problems/validation-error",
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
                    type=f"/problems/{type(exc).__name__}",
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
