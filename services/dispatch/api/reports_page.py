"""``/reports``: the reports page (``console/reports.html``) with the console's content policy.

Served like the console's own page: no token needed for the page itself (it holds no data;
the charts come from ``/v1/reports/outcomes/charts`` after signing in), scripts and styles
from this origin only, and it calls no other service. Its sign-in is the console's: the
section between ``index.html``'s sign-in markers takes the place of ``<!-- sign-in -->``,
so the two pages cannot drift apart (signin.js drives both).
"""

import functools

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from services.dispatch.api.console import CONSOLE_DIR, page_csp

router = APIRouter(include_in_schema=False)

START = "<!-- sign-in: start"
END = "<!-- sign-in: end -->"
SLOT = "<!-- sign-in -->"


@functools.cache
def page() -> str:
    console = (CONSOLE_DIR / "index.html").read_text()
    start = console.index(START)
    sign_in = console[console.index("\n", start) + 1 : console.index(END)].strip()
    return (CONSOLE_DIR / "reports.html").read_text().replace(SLOT, sign_in, 1)


@router.api_route("/reports", methods=["GET", "HEAD"])
async def reports_page() -> HTMLResponse:
    return HTMLResponse(
        page(),
        headers={"Content-Security-Policy": page_csp(None, None), "Cache-Control": "no-cache"},
    )
