"""Routes that create something, made safe to retry with an ``Idempotency-Key`` header.

``answer_once`` runs the route's work and remembers its answer in the same
transaction (services/dispatch/app/idempotency.py); a retry with the same key
and body gets that answer again, marked ``Idempotent-Replayed: true``.
Without the header a route behaves as before.
"""

import re
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError

from services.common.auth import Principal
from services.common.outbox import UnitOfWork
from services.common.runtime import ServiceRuntime
from services.dispatch.app import idempotency
from services.dispatch.domain.errors import Unprocessable

# The draft leaves the key's form to the server: up to 255 visible ASCII characters
# (a UUID is what clients usually send). Checked here rather than as a schema
# pattern, so the OpenAPI promises what any HTTP client can send and the 422
# names the header in our own words.
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=idempotency.HEADER,
        description="Makes a retry of this request safe: the same key and body within 24 h "
        "returns the first answer; the same key with another body is refused (422). "
        "1-255 visible ASCII characters, e.g. a UUID.",
    ),
]
_KEY = re.compile(r"[\x21-\x7e]{1,255}")

# Two retries racing: one commits the key, the other's insert fails and, tried
# again, finds the answer. Calls also retry a short-code collision this way.
_ATTEMPTS = 3

Work = Callable[[UnitOfWork], Awaitable[BaseModel]]


async def answer_once(
    runtime: ServiceRuntime,
    request: Request,
    who: Principal,
    key: str | None,
    body: BaseModel,
    work: Work,
    *,
    status_code: int,
    location: Callable[[Any], str] | None = None,
) -> JSONResponse:
    if key is not None and not _KEY.fullmatch(key):
        raise Unprocessable(
            idempotency.HEADER, "must be 1-255 visible ASCII characters (a UUID, for example)"
        )
    fingerprint = idempotency.fingerprint(
        request.method, request.url.path, body.model_dump(mode="json")
    )
    for attempt in range(_ATTEMPTS):
        try:
            async with runtime.unit_of_work(correlation_id=request.state.request_id) as uow:
                if key is not None:
                    earlier = await idempotency.earlier_answer(uow, who.subject, key, fingerprint)
                    if earlier is not None:
                        return _respond(earlier, replayed=True)
                result = await work(uow)
                answer = idempotency.Answer(
                    status_code,
                    result.model_dump(mode="json"),
                    location(result) if location else None,
                )
                if key is not None:
                    idempotency.remember(uow, who.subject, key, fingerprint, answer)
                await uow.commit()
            return _respond(answer, replayed=False)
        except IntegrityError:
            if attempt == _ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _respond(answer: idempotency.Answer, *, replayed: bool) -> JSONResponse:
    headers = {"Location": answer.location} if answer.location else {}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(answer.body, status_code=answer.status_code, headers=headers)
