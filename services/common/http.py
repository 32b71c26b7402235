"""The FastAPI app every service is built on: lifespan, auth, problem+json, probes, request ids."""

import uuid
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from schemas.api import Problem, ProblemField
from schemas.text import line_problem, safe_id
from services.common.access_audit import audited, record_access
from services.common.guards import install_guards
from services.common.http_tracing import RequestTracing
from services.common.logs import bind
from services.common.metrics import install_http_metrics
from services.common.openapi_problems import document_problems
from services.common.problems import install_problem_handlers, problem_response
from services.common.runtime import ServiceRuntime
from services.common.scrape import metrics_router
from services.common.tokens import TokenKeys


def build_app(
    runtime: ServiceRuntime,
    *,
    title: str,
    routers: list[APIRouter],
    domain_errors: dict[type[Exception], int] | None = None,
) -> FastAPI:
    app = FastAPI(
        title=title,
        version="1",
        lifespan=runtime.lifespan,
        # FastAPI's own OpenTelemetry spans and logs record raw paths, queries and
        # validation input (link tokens, phone numbers); ours (http_tracing) do not.
        telemetry={"tracing": False, "logs": False, "operation_spans": False},
    )
    app.add_middleware(CurlJsonMiddleware)
    app.add_middleware(PlainUrlMiddleware)
    install_guards(app, runtime.settings)
    app.state.runtime = runtime
    secret = runtime.settings.auth_secret
    app.state.token_keys = TokenKeys(secret.get_secret_value()) if secret else None
    install_problem_handlers(app, domain_errors or {})
    document_problems(app)
    app.include_router(health_router(runtime))
    app.include_router(metrics_router(runtime))
    for router in routers:
        app.include_router(router)

    @app.middleware("http")
    async def request_context(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        # The request id becomes the correlation id of every event this request causes,
        # and is stored (audit, events) in columns with a limit: a caller's id is kept
        # only if it is short and plain, otherwise replaced, so no header can break a route.
        request_id = safe_id(request.headers.get("x-request-id")) or uuid.uuid4().hex
        request.state.request_id = request_id
        with bind(correlation_id=request_id):
            response = await call_next(request)
            if audited(request.url.path):
                response = await record_access(request, response)
        response.headers["X-Request-ID"] = request_id
        return response

    install_http_metrics(app, runtime.metrics)  # wraps the middlewares above
    # Added last, so it is the outermost middleware: its span covers all the others.
    app.add_middleware(RequestTracing, telemetry=runtime.telemetry)
    return app


class CurlJsonMiddleware:
    """Treat ``application/x-www-form-urlencoded`` bodies on ``/v1/`` as JSON.

    ``curl -d @call.json`` sends that content type by default, and no ``/v1``
    route takes form data; without this the documented one-liner would be
    refused. A body that is not JSON still gets a 422 naming the problem.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/v1/"):
            headers = [
                (k, b"application/json")
                if k == b"content-type" and v.startswith(b"application/x-www-form-urlencoded")
                else (k, v)
                for k, v in scope["headers"]
            ]
            # In place, not a copy: the router notes the matched route in this
            # scope, and the tracing middleware outside reads it there.
            scope["headers"] = headers
        await self.app(scope, receive, send)


class PlainUrlMiddleware:
    """Refuse (422) a path or query that holds a control or bidi character, before any route.

    Path and query values reach database lookups (``/v1/units/{id}``, audit filters);
    PostgreSQL refuses a NUL in text with an error that would be a 500. Body fields are
    checked by their types (``schemas/text.py``); this covers what the URL carries, for
    every route at once.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (errors := _url_problems(scope)):
            detail = "; ".join(f"{e.field}: {e.message}" for e in errors[:5])
            problem = Problem(
                title="The request is not valid",
                status=422,
                detail=detail,
                errors=errors,
            )
            await problem_response(problem)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _url_problems(scope: Scope) -> list[ProblemField]:
    errors = []
    if problem := line_problem(scope["path"]):
        errors.append(ProblemField(field="path", message=problem))
    query = scope["query_string"].decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True, errors="replace"):
        if problem := line_problem(name) or line_problem(value):
            errors.append(ProblemField(field=f"query.{line_safe(name)}", message=problem))
    return errors


def line_safe(name: str) -> str:
    """A parameter name fit to echo back in a problem (its bad characters shown as '?')."""
    return "".join("?" if line_problem(c) else c for c in name)[:64]


def health_router(runtime: ServiceRuntime) -> APIRouter:
    """Probes for orchestrators. Unauthenticated by design; they reveal no personal data."""
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="Liveness: fails when a consumer has stalled or a task died")
    async def healthz() -> JSONResponse:
        report = runtime.liveness()
        return JSONResponse(
            {"status": "ok" if report.ok else "fail", "checks": report.checks},
            status_code=200 if report.ok else 503,
        )

    @router.get("/readyz", summary="Readiness: the database answers")
    async def readyz() -> JSONResponse:
        report = await runtime.readiness()
        return JSONResponse(
            {"status": "ok" if report.ok else "fail", "checks": report.checks},
            status_code=200 if report.ok else 503,
        )

    return router
