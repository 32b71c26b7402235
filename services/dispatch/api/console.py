"""The dispatcher console: a static page (``services/dispatch/console/``) served by dispatch.

Plain HTML, CSS and ES modules committed in the repository: nothing to build,
nothing loaded from another host. ``/`` answers the page with its own CSP
(scripts and styles from this origin only; ``connect-src`` this origin plus
the triage and notify origins the console calls cross-origin);
``/console/config.json`` tells the page those two origins and its idle lock
(seconds without keyboard or pointer use before the console signs itself out
and clears the screen). Neither needs a token: the page holds no data, and
everything it shows comes from the ``/v1`` API after signing in.
"""

from pathlib import Path
from urllib.parse import urlsplit

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

CONSOLE_DIR = Path(__file__).resolve().parents[1] / "console"


def _origin(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def page_csp(triage_url: str | None, notify_url: str | None) -> str:
    connect = " ".join(["'self'", *(o for o in (_origin(triage_url), _origin(notify_url)) if o)])
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        f"connect-src {connect}; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    )


def install_console(
    app: FastAPI, triage_url: str | None, notify_url: str | None, idle_lock_s: int
) -> None:
    """Serve the page at ``/``, its config and its files under ``/console/``."""
    router = APIRouter(include_in_schema=False)
    csp = page_csp(triage_url, notify_url)
    config = {"triage_url": triage_url, "notify_url": notify_url, "idle_lock_s": idle_lock_s}

    @router.api_route("/", methods=["GET", "HEAD"])
    async def page() -> FileResponse:
        return FileResponse(
            CONSOLE_DIR / "index.html",
            media_type="text/html; charset=utf-8",
            headers={"Content-Security-Policy": csp, "Cache-Control": "no-cache"},
        )

    @router.get("/console/config.json")
    async def console_config() -> JSONResponse:
        return JSONResponse(config, headers={"Cache-Control": "no-cache"})

    app.include_router(router)
    app.mount("/console", StaticFiles(directory=CONSOLE_DIR), name="console")
