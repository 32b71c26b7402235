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
from starlette.exceptions import HTTPException as StarletteHTTPException

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
        return problem_response(
            Problem(
                title=_title(exc.status_code),
                status=exc.status_code,
                detail=str(exc.detail),
                instance=request.url.path,
            ),
            headers=getattr(exc, "headers", None),
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


def _title(status_code: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return "Error"
