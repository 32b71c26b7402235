"""HTTP guards every service wears: security headers, CORS closed by default, a body size limit.

All three are pure ASGI middlewares (no ``BaseHTTPMiddleware``: it buffers
nothing here but adds a task per request, and these only touch the response
start and the request's byte count).

- Security headers go on every response, errors and 500s included. A header a
  route already set wins (the responder page sets its own CSP); ``/v1/``
  responses carry personal data, so they are never stored by a cache. The
  OpenAPI pages (``/docs``, ``/redoc``) get a CSP that admits the script and
  style FastAPI loads for them from its CDN, and nothing else; every other
  response gets ``default-src 'none'``.
- CORS: Starlette's middleware, admitting only ``cors_origins`` (none by
  default). Credentials are bearer tokens in a header, never cookies, so
  ``Access-Control-Allow-Credentials`` is never sent.
- Body limit: a ``Content-Length`` over ``max_body_bytes`` is refused before
  the app runs; a chunked body is counted as it streams and refused the moment
  it passes the limit, so nothing past it is read or stored. FastAPI 0.165+
  and Starlette 1.x have a limit of their own, but they answer some of these
  cases with ``text/plain`` and never say the limit; ours is problem+json
  naming it, like every other error here.
"""

from http import HTTPStatus

from fastapi import FastAPI
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from schemas.api import Problem
from services.common.problems import problem_response
from services.common.settings import ServiceSettings

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    # Browsers ignore it over plain HTTP, so it costs the embedded stack nothing.
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
# JSON and error pages need no sub-resources at all.
DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# FastAPI's Swagger UI and ReDoc pages load their bundles from jsDelivr and
# start them with an inline script; ReDoc adds Google Fonts and a blob: worker.
DOCS_CSP = (
    "default-src 'none'; "
    "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src https://fonts.gstatic.com; "
    "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
    "connect-src 'self'; worker-src blob:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
PERSONAL_DATA_PREFIX = "/v1/"

CORS_METHODS = ("GET", "POST", "PUT", "PATCH")
CORS_REQUEST_HEADERS = ("Authorization", "Content-Type", "X-Request-ID")
CORS_EXPOSED_HEADERS = ("Location", "X-Request-ID")


def install_guards(app: FastAPI, settings: ServiceSettings) -> None:
    """Wire the three guards into ``app``; call before the app serves its first request."""
    app.add_middleware(BodySizeLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    # Added after the limit, so it sits outside it and a 413 still carries CORS headers.
    app.add_middleware(
        ProblemCORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=CORS_METHODS,
        allow_headers=CORS_REQUEST_HEADERS,
        expose_headers=CORS_EXPOSED_HEADERS,
    )
    docs = frozenset(
        p for p in (app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url) if p
    )
    # Starlette puts ServerErrorMiddleware outside every user middleware, so a
    # user middleware never sees the 500 it sends; the headers wrap the whole stack.
    build_stack = app.build_middleware_stack

    def build_guarded_stack() -> ASGIApp:
        return SecurityHeadersMiddleware(build_stack(), docs_paths=docs)

    app.build_middleware_stack = build_guarded_stack  # type: ignore[method-assign]


class SecurityHeadersMiddleware:
    """Adds the standard security headers a response does not already carry."""

    def __init__(self, app: ASGIApp, docs_paths: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.docs_paths = docs_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        csp = DOCS_CSP if path in self.docs_paths else DEFAULT_CSP
        private = path.startswith(PERSONAL_DATA_PREFIX)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                headers.setdefault("Content-Security-Policy", csp)
                if private:
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyTooLarge(HTTPException):
    """Raised into whatever is reading the body, so the app's problem handler answers 413.

    FastAPI re-raises an ``HTTPException`` met while reading a body (rather than
    calling it a parse error), and Starlette's exception middleware turns it
    into our problem+json; the middleware below answers it itself if it
    escapes that far.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(413, detail=f"the request body is larger than the limit of {limit} bytes")


class BodySizeLimitMiddleware:
    """Refuses request bodies over ``max_body_bytes`` with 413, declared or streamed."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.limit = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.limit:
            await self._refuse(scope, receive, send)
            return

        received = 0
        started = False

        async def receive_within_limit() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        async def send_tracking_start(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive_within_limit, send_tracking_start)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        error = BodyTooLarge(self.limit)
        response = problem_response(
            Problem(
                title=HTTPStatus(error.status_code).phrase,
                status=error.status_code,
                detail=error.detail,
                instance=scope["path"],
            ),
            # The rest of the body is never read; the connection cannot be reused.
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)


class ProblemCORSMiddleware(CORSMiddleware):
    """Starlette's CORS, with a refused preflight answered as problem+json like every error."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code != 400:
            return response
        kept = {
            k: v for k, v in response.headers.items() if k not in ("content-type", "content-length")
        }
        return problem_response(
            Problem(
                title="Bad Request",
                status=400,
                detail=f"CORS preflight refused ({bytes(response.body).decode()})",
            ),
            headers=kept,
        )


def _content_length(scope: Scope) -> int | None:
    value = Headers(scope=scope).get("content-length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
