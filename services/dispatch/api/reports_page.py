"""``/reports``: the reports page (``console/reports.html``) with the console's content policy.

Served like the console's own page: no token needed for the page itself (it holds no data;
the charts come from ``/v1/reports/outcomes/charts`` after signing in), scripts and styles
from this origin only, and it calls no other service.
"""

from fastapi import APIRouter
from fastapi.responses import FileResponse

from services.dispatch.api.console import CONSOLE_DIR, page_csp

router = APIRouter(include_in_schema=False)


@router.api_route("/reports", methods=["GET", "HEAD"])
async def reports_page() -> FileResponse:
    return FileResponse(
        CONSOLE_DIR / "reports.html",
        media_type="text/html; charset=utf-8",
        headers={"Content-Security-Policy": page_csp(None, None), "Cache-Control": "no-cache"},
    )
