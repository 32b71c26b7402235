"""Twilio's webhooks (``/twilio/sms/status``, ``/twilio/sms/inbound``); the console's simulator.

Every webhook request's ``X-Twilio-Signature`` is checked with twilio's own
``RequestValidator`` against the public URL Twilio called (``CORESPOND_PUBLIC_BASE_URL``
plus the path, so it holds behind a proxy); a bad or missing signature is 403
and changes nothing; a signed form without the fields Twilio always sends is
a 422 naming them. Inbound answers are TwiML. A retry carrying an
``I-Twilio-Idempotency-Token`` already seen gets the first answer and changes nothing.
"""

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.exc import IntegrityError
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from schemas.calls import E164
from schemas.text import CleanLine, CleanText, safe_id
from services.common.auth import Principal, StaffRole, require_roles
from services.common.clock import new_id
from services.common.runtime import ServiceRuntime
from services.notify.adapters.metrics import NotifyMetrics
from services.notify.app import receipts
from services.notify.app.callbacks import apply_status
from services.notify.app.inbound import handle_inbound

router = APIRouter(tags=["sms"])

Simulator = Annotated[Principal, Depends(require_roles(StaffRole.DISPATCHER, StaffRole.SUPERVISOR))]


def _runtime(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


async def _verified_form(request: Request) -> dict[str, str]:
    """The form Twilio posted, after its signature checks out."""
    token = request.app.state.twilio_auth_token
    if not token:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Twilio webhooks are not configured")
    form = {k: str(v) for k, v in (await request.form()).items()}
    base = request.app.state.public_base_url
    url = (
        base.rstrip("/") + request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if base
        else str(request.url)
    )
    signature = request.headers.get("X-Twilio-Signature", "")
    if not RequestValidator(token).validate(url, form, signature):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "bad or missing X-Twilio-Signature")
    return form


IDEMPOTENCY_HEADER = "I-Twilio-Idempotency-Token"


class StatusCallback(BaseModel):
    """What notify reads of a status callback (Twilio sends more; the signature covers all)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    message_sid: CleanLine = Field(alias="MessageSid", min_length=1, max_length=64)
    message_status: CleanLine = Field(
        alias="MessageStatus",
        min_length=1,
        max_length=32,
        description="queued, sent, delivered, failed, ...",
    )
    error_code: CleanLine | None = Field(default=None, alias="ErrorCode", max_length=16)


class InboundMessage(BaseModel):
    """What notify reads of an inbound SMS Twilio forwards."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    message_sid: CleanLine = Field(alias="MessageSid", min_length=1, max_length=64)
    from_: CleanLine = Field(
        alias="From", min_length=1, max_length=32, description="the sender's number, E.164"
    )
    # Cleaned, not refused: a phone cannot be told "422", and its reply still counts.
    body: CleanText = Field(alias="Body", description="what they wrote (empty for a picture alone)")


FormModel = TypeVar("FormModel", bound=BaseModel)


def _documented_form(model: type[BaseModel]) -> dict[str, Any]:
    """The route reads the form itself (the signature covers every field Twilio sent,
    declared or not), so the OpenAPI document gets the body from the model here."""
    form = {"schema": model.model_json_schema(by_alias=True)}
    return {
        "requestBody": {
            "required": True,
            "content": {"application/x-www-form-urlencoded": form},
        }
    }


def _read(model: type[FormModel], form: dict[str, str]) -> FormModel:
    """A signed form missing what Twilio always sends is a 422 naming the field."""
    try:
        return model.model_validate(form)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]
        ) from exc


def _retry_token(request: Request) -> str | None:
    """Twilio's retry token, if it is one: the signature does not cover headers, and the
    token is a key with a length limit, so an odd one is ignored (the MessageSid still
    deduplicates) rather than trusted."""
    return safe_id(request.headers.get(IDEMPOTENCY_HEADER))


REFUSED: dict[int | str, dict[str, Any]] = {
    403: {"description": "X-Twilio-Signature is missing or wrong, or Twilio is not configured"}
}
TWIML = "application/xml"


@router.post(
    "/twilio/sms/status",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=REFUSED,
    openapi_extra=_documented_form(StatusCallback),
)
async def status_callback(request: Request) -> Response:
    callback = _read(StatusCallback, await _verified_form(request))
    retry_token = _retry_token(request)

    metrics: NotifyMetrics = request.app.state.notify_metrics

    async def apply() -> str:
        async with _runtime(request).unit_of_work() as uow:
            if await receipts.earlier_answer(uow, retry_token) is None:
                if await apply_status(
                    uow, callback.message_sid, callback.message_status, callback.error_code
                ):
                    # Only statuses apply_status knows move a message: a bounded label.
                    status_now = callback.message_status.lower()
                    uow.on_committed(partial(metrics.provider_reported, status_now))
                await receipts.keep(uow, retry_token, request.url.path, "")
                await uow.commit()
        return ""

    await _once(request, retry_token, apply)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/twilio/sms/inbound",
    response_class=Response,
    responses={
        200: {
            "description": "TwiML: the reply Twilio texts back",
            "content": {TWIML: {"schema": {"type": "string"}}},
        },
        **REFUSED,
    },
    openapi_extra=_documented_form(InboundMessage),
)
async def inbound_sms(request: Request) -> Response:
    message = _read(InboundMessage, await _verified_form(request))
    retry_token = _retry_token(request)

    async def apply() -> str:
        async with _runtime(request).unit_of_work() as uow:
            earlier = await receipts.earlier_answer(uow, retry_token)
            if earlier is not None:
                return earlier
            answer = await handle_inbound(uow, message.message_sid, message.from_, message.body)
            await receipts.keep(uow, retry_token, request.url.path, answer)
            await uow.commit()
        return answer

    twiml = MessagingResponse()
    twiml.message(await _once(request, retry_token, apply))
    return Response(content=str(twiml), media_type=TWIML)


async def _once(
    request: Request, retry_token: str | None, apply: Callable[[], Awaitable[str]]
) -> str:
    """Run ``apply``; if a concurrent retry with the same token won the race, its answer."""
    try:
        return await apply()
    except IntegrityError:
        async with _runtime(request).unit_of_work() as uow:
            earlier = await receipts.earlier_answer(uow, retry_token)
        if earlier is None:
            raise
        return earlier


class SimulatedReply(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: E164 = Field(alias="from")
    # Cleaned like a real SMS (see InboundMessage), so the simulator behaves as a phone would.
    body: CleanText = Field(min_length=1, max_length=1600)


class SimulatedAnswer(BaseModel):
    reply: str


@router.post("/v1/console/sms/inbound", response_model=SimulatedAnswer)
async def simulate_inbound(
    body: SimulatedReply, _who: Simulator, request: Request
) -> SimulatedAnswer:
    """Console backend only: a responder's reply as if it came in by SMS (demos, tests)."""
    if request.app.state.sms_backend != "console":
        raise HTTPException(
            status.HTTP_409_CONFLICT, "only the console SMS backend simulates replies"
        )

    async with _runtime(request).unit_of_work() as uow:
        answer = await handle_inbound(uow, "SIM" + new_id(), body.from_, body.body)
        await uow.commit()
    return SimulatedAnswer(reply=answer)
