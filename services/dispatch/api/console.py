"""The dispatcher console: a static page (``services/dispatch/console/``) served by dispatch.

Plain HTML, CSS and ES modules committed in the repository: nothing to build,
nothing loaded from another host. ``/`` answers the page with its own CSP
(scripts and styles from this origin only; ``connect-src`` this origin plus
the triage and notify origins the console calls cross-origin);
``/console/config.json`` tells the page those two origins and its idle lock
(seconds without keyboard or pointer use before the console signs itself out
and clears the screen) and the base map's tile URL, if one is configured (then,
and only then, the CSP admits images from the tile host). Neither needs a token:
the page holds no data, and everything it shows comes from the ``/v1`` API after
signing in.
"""

from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import AfterValidator, StringConstraints

CONSOLE_DIR = Path(__file__).resolve().parents[1] / "console"


def _tile_template(url: str) -> str:
    if _origin(url) is None or urlsplit(url).scheme not in ("http", "https"):
        raise ValueError("a tile URL is an http(s) URL")
    if "{" in urlsplit(url).netloc:
        raise ValueError("a tile URL names one host (no {s} subdomains): the page's CSP admits it")
    if not all(part in url for part in ("{z}", "{x}", "{y}")):
        raise ValueError("a tile URL has {z}, {x} and {y} in it")
    return url


# An http(s) raster tile template with {z}, {x} and {y} (Web Mercator, 256 px tiles).
TileUrl = Annotated[
    str,
    StringConstraints(max_length=500, pattern=r"^\S+$"),
    AfterValidator(_tile_template),
]


def _origin(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def page_csp(triage_url: str | None, notify_url: str | None, tile_url: str | None = None) -> str:
    connect = " ".join(["'self'", *(o for o in (_origin(triage_url), _origin(notify_url)) if o)])
    images = " ".join(["'self'", *(o for o in (_origin(tile_url),) if o)])
    return (
        f"default-src 'none'; script-src 'self'; style-src 'self'; img-src {images}; "
        f"connect-src {connect}; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    )


def install_console(
    app: FastAPI,
    triage_url: str | None,
    notify_url: str | None,
    idle_lock_s: int,
    tile_url: str | None = None,
) -> None:
    """Serve the page at ``/``, its config and its files under ``/console/``."""
    router = APIRouter(include_in_schema=False)
    csp = page_csp(triage_url, notify_url, tile_url)
    config = {
        "triage_url": triage_url,
        "notify_url": notify_url,
        "idle_lock_s": idle_lock_s,
        "tile_url": tile_url,
    }

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
