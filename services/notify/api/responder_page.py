"""``/r/{token}``: the responder's phone-first page behind the link in their offer SMS.

No bearer token: the link is the credential (unguessable, expiring, one
assignment) and opens nothing else. Answers are plain form posts, so the page
needs no script and works on any phone browser; after each one the browser is
sent back to the page (post/redirect/get), so a reload never answers twice.
The page is never cached, never framed, and sends no Referer onward (the token
is in its URL).
"""

from html import escape
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from schemas.vocabulary import ReplyAnswer, Role
from services.common.runtime import ServiceRuntime
from services.notify.app import responder_links
from services.notify.app.responder_links import LinkGone, NotAnswerable, ResponderView

router = APIRouter(tags=["responder page"])

PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}

_ROLE = {
    Role.POLICE: "Officer",
    Role.CLINICIAN: "Clinician",
    Role.EMT: "EMT",
    Role.TELEHEALTH: "Telehealth clinician",
}
_STATE = {
    None: "Offered to you. Please answer.",
    ReplyAnswer.ACCEPT.value: "You accepted. Dispatch has been told.",
    ReplyAnswer.DECLINE.value: "You declined.",
    ReplyAnswer.ARRIVED.value: "You are on scene.",
    ReplyAnswer.DONE.value: "You have cleared.",
    "ended": "This assignment has ended. No action needed.",
}
_BUTTON = {
    ReplyAnswer.ACCEPT: "Accept",
    ReplyAnswer.DECLINE: "Decline",
    ReplyAnswer.ARRIVED: "Arrived",
    ReplyAnswer.DONE: "Done",
}
_SAID = {
    "accept": "Sent: accept.",
    "decline": "Sent: decline.",
    "arrived": "Sent: arrived.",
    "done": "Sent: done.",
    "late": "That answer no longer applies; the page shows where things stand.",
}

_STYLE = """
body{font:1.1rem/1.45 system-ui,sans-serif;margin:0;padding:1rem;max-width:32rem;color:#111;
background:#fff}
h1{font-size:1.35rem;margin:.2rem 0 .8rem}
.state{padding:.6rem .8rem;border-left:.35rem solid #1a4d8f;background:#eef3fa;margin:1rem 0}
.note{padding:.5rem .8rem;background:#fff6d6;border:1px solid #8a6d00;margin:1rem 0}
dl{display:grid;grid-template-columns:auto 1fr;gap:.3rem .8rem}dt{font-weight:600}dd{margin:0}
form{margin:0}.actions{display:grid;gap:.7rem;margin-top:1rem}
button,a.button{display:block;width:100%;box-sizing:border-box;font:inherit;font-weight:600;
padding:.9rem;border-radius:.4rem;border:2px solid #123a6b;background:#1a4d8f;color:#fff;
text-align:center;text-decoration:none;cursor:pointer}
button.secondary{background:#fff;color:#123a6b}
button:focus-visible,a:focus-visible{outline:.2rem solid #c25e00;outline-offset:.15rem}
"""


def _page(title: str, body: str, status_code: int = 200) -> HTMLResponse:
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )
    return HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)


def gone() -> HTMLResponse:
    return _page(
        "Link expired",
        "<h1>This link has expired</h1><p>Call dispatch if you still need this assignment.</p>",
        status_code=410,
    )


def _where(page: ResponderView) -> str:
    if page.address:
        return escape(page.address)
    if page.lat is not None and page.lon is not None:
        # geo: opens the phone's own map app; no outside service is asked by this page.
        point = f"{page.lat:.5f},{page.lon:.5f}"
        return f'<a href="geo:{point}">{point}</a>'
    return "With dispatch: call for the location."


def render(token: str, page: ResponderView, said: str | None) -> HTMLResponse:
    code = escape(page.incident_code)
    parts = [
        f"<h1>P{page.priority} incident #{code}</h1>",
        f'<p class="state" role="status">{escape(_STATE.get(page.state, page.state or ""))}</p>',
    ]
    if said in _SAID:
        parts.append(f'<p class="note">{escape(_SAID[said])}</p>')
    parts.append(
        "<dl>"
        f"<dt>Unit</dt><dd>{escape(page.call_sign)}</dd>"
        f"<dt>Requested</dt><dd>{_ROLE[page.role]}</dd>"
        f"<dt>Where</dt><dd>{_where(page)}</dd>"
        "</dl>"
    )
    actions = []
    if page.has_video:
        actions.append(f'<a class="button" href="/t/{escape(token)}">Join the video call</a>')
    for answer in page.can_answer:
        style = ' class="secondary"' if answer == ReplyAnswer.DECLINE else ""
        actions.append(
            f'<form method="post" action="/r/{escape(token)}">'
            f'<input type="hidden" name="answer" value="{answer.value}">'
            f'<button{style} type="submit">{_BUTTON[answer]}</button></form>'
        )
    if actions:
        parts.append(f'<div class="actions">{"".join(actions)}</div>')
    parts.append(f"<p>Or reply by SMS: Y {code}, N {code}, ARRIVED {code}, DONE {code}.</p>")
    return _page(f"corespond #{page.incident_code}", "".join(parts))


def _runtime(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


@router.get("/r/{token}", include_in_schema=False)
async def show(token: str, request: Request, said: str | None = None) -> Response:
    async with _runtime(request).unit_of_work() as uow:
        page = await responder_links.view(uow, token)
    if page is None:
        return gone()
    return render(token, page, said)


@router.post("/r/{token}", include_in_schema=False)
async def answer(token: str, request: Request, answer: Annotated[ReplyAnswer, Form()]) -> Response:
    async with _runtime(request).unit_of_work() as uow:
        try:
            await responder_links.answer(uow, token, answer)
        except LinkGone:
            return gone()
        except NotAnswerable:
            return RedirectResponse(f"/r/{token}?said=late", status_code=303)
        await uow.commit()
    return RedirectResponse(f"/r/{token}?said={answer.value}", status_code=303)
