"""FHIR R4 referrals: ``/fhir/r4/ServiceRequest/{id}``, ``/fhir/r4/Task/{id}`` (read, PUT,
PATCH) and ``/fhir/r4/Task?owner=&status=&_lastUpdated=`` (a searchset Bundle).

Bodies are ``application/fhir+json``; every error, the sign-in ones included, is an
OperationOutcome with the HTTP status FHIR's RESTful API gives it (401, 403, 404, 409
for a step the Task's status does not allow, 412 for a stale ``If-Match``, 422 for a
Task that breaks a rule). A provider may change only ``status`` and
``statusReason`` of its own Tasks; anything else in a PUT or PATCH is refused (422).

These routes are not in the OpenAPI document: FHIR clients read the server's
CapabilityStatement (``/fhir/r4/metadata``) instead. Every access is audited like
``/v1`` (``services/common/access_audit.py``).
"""

import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPBearer

from services.common.auth import Principal, StaffRole, require_roles
from services.dispatch.api.deps import Context, Runtime
from services.dispatch.app import referrals
from services.dispatch.domain import fhir_mapping as fhir
from services.dispatch.domain.errors import Conflict, NotFound, Unprocessable
from services.dispatch.domain.json_patch import PatchError, PatchTestFailed, apply
from services.dispatch.domain.referral_lifecycle import TaskStatus, parse_status

BASE = "/fhir/r4"
router = APIRouter(prefix=BASE, include_in_schema=False)
# Only these may differ between the Task as stored and as a client sends it back.
WRITABLE = ("status", "statusReason")
# Server-kept elements a client's copy may hold stale or leave out. ``priority`` follows
# the incident's triage, which can land between a client's read and its write.
IGNORED = ("meta", "lastModified", "text", "priority")


class FhirError(Exception):
    """Raised inside FHIR routes and their dependencies; answered as an OperationOutcome."""

    def __init__(self, status: int, text: str, expression: str | None = None) -> None:
        super().__init__(text)
        self.status, self.text, self.expression = status, text, expression


def fhir_response(body: dict[str, Any], status: int = 200) -> JSONResponse:
    headers = {"Cache-Control": "no-store"}
    meta = body.get("meta") or {}
    if "versionId" in meta:
        headers["ETag"] = f'W/"{meta["versionId"]}"'
    return JSONResponse(body, status_code=status, media_type=fhir.FHIR_JSON, headers=headers)


_require = require_roles(StaffRole.DISPATCHER, StaffRole.SUPERVISOR, StaffRole.PROVIDER)


_bearer = HTTPBearer(auto_error=False)


async def fhir_principal(request: Request) -> Principal:
    """The route's role check, with its 401/403 as an OperationOutcome."""
    credentials = await _bearer(request)
    try:
        principal: Principal = await _require(request, credentials)
    except HTTPException as exc:
        raise FhirError(exc.status_code, str(exc.detail)) from exc
    return principal


Who = Annotated[Principal, Depends(fhir_principal)]


def _error(exc: Exception) -> FhirError:
    if isinstance(exc, referrals.StaleVersion):
        return FhirError(412, str(exc))
    if isinstance(exc, NotFound):
        return FhirError(404, str(exc))
    if isinstance(exc, Conflict):
        return FhirError(409, str(exc))
    if isinstance(exc, Unprocessable):
        return FhirError(422, str(exc), exc.field)
    raise exc


@router.get("/metadata")
async def capability_statement(_who: Who, runtime: Runtime) -> JSONResponse:
    return fhir_response(
        {
            "resourceType": "CapabilityStatement",
            "status": "active",
            "date": fhir.instant(runtime.clock.now())[:10],
            "kind": "instance",
            "fhirVersion": "4.0.1",
            "format": [fhir.FHIR_JSON],
            "patchFormat": ["application/json-patch+json"],
            "rest": [
                {
                    "mode": "server",
                    "resource": [
                        {
                            "type": "Task",
                            "interaction": [
                                {"code": "read"},
                                {"code": "update"},
                                {"code": "patch"},
                                {"code": "search-type"},
                            ],
                            "versioning": "versioned-update",
                            "searchParam": [
                                {"name": "owner", "type": "reference"},
                                {"name": "status", "type": "token"},
                                {"name": "_lastUpdated", "type": "date"},
                            ],
                        },
                        {"type": "ServiceRequest", "interaction": [{"code": "read"}]},
                    ],
                }
            ],
        }
    )


@router.get("/ServiceRequest/{service_request_id}")
async def read_service_request(
    service_request_id: str, principal: Who, runtime: Runtime
) -> JSONResponse:
    share = bool(getattr(runtime.settings, "fhir_share_substance_use", False))
    try:
        body = await referrals.read_service_request(
            runtime.db, principal, service_request_id, share_substance_use=share
        )
    except (NotFound, Conflict, Unprocessable) as exc:
        raise _error(exc) from exc
    return fhir_response(body)


@router.get("/Task/{task_id}")
async def read_task(task_id: str, principal: Who, runtime: Runtime) -> JSONResponse:
    try:
        body = await referrals.read_task(runtime.db, principal, task_id)
    except (NotFound, Conflict, Unprocessable) as exc:
        raise _error(exc) from exc
    return fhir_response(body)


def _instant(value: str, name: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise FhirError(400, f"{name}: not a FHIR instant or date: {value!r}", name) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _last_updated(values: list[str]) -> tuple[datetime | None, datetime | None]:
    """``_lastUpdated=ge2026-12-01T00:00:00Z`` (and ``gt``, ``lt``, ``le``), possibly twice."""
    since = before = None
    for value in values:
        prefix, rest = (value[:2], value[2:]) if value[:2].isalpha() else ("ge", value)
        at = _instant(rest, "_lastUpdated")
        if prefix in ("ge", "gt"):
            since = at
        elif prefix in ("lt", "le"):
            before = at
        else:
            raise FhirError(
                400, f"_lastUpdated: prefix {prefix!r} is not supported", "_lastUpdated"
            )
    return since, before


@router.get("/Task")
async def search_tasks(request: Request, principal: Who, runtime: Runtime) -> JSONResponse:
    params = request.query_params
    owners = {
        o.strip().removeprefix("Organization/")
        for value in params.getlist("owner")
        for o in value.split(",")
        if o.strip()
    } or None
    statuses: set[str] | None = None
    if params.getlist("status"):
        statuses = set()
        for value in params.getlist("status"):
            for s in value.split(","):
                try:
                    statuses.add(parse_status(s.strip()).value)
                except Unprocessable as exc:
                    raise FhirError(400, f"status: {exc}", "status") from exc
    since, before = _last_updated(params.getlist("_lastUpdated"))
    found = await referrals.search_tasks(runtime.db, principal, owners, statuses, since, before)
    base = str(request.base_url).rstrip("/") + BASE
    return fhir_response(fhir.searchset(base, str(request.url), found))


async def _json(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FhirError(400, f"the body is not JSON: {exc}") from exc


def _wanted_change(current: dict[str, Any], sent: object) -> tuple[TaskStatus, str | None]:
    """The status (and reason) a client's copy of the Task asks for; refuses any other edit."""
    if not isinstance(sent, dict) or sent.get("resourceType") != "Task":
        raise FhirError(400, "the body must be a Task resource", "Task")
    if sent.get("id") != current["id"]:
        raise FhirError(400, "the Task's id must be the one in the URL", "Task.id")
    changed = sorted(
        key
        for key in {*current, *sent}
        if key not in (*WRITABLE, *IGNORED) and current.get(key) != sent.get(key)
    )
    if changed:
        raise FhirError(
            422,
            "only Task.status and Task.statusReason may change; not "
            + ", ".join(f"Task.{k}" for k in changed),
            f"Task.{changed[0]}",
        )
    reason = sent.get("statusReason")
    text = reason.get("text") if isinstance(reason, dict) else None
    if reason is not None and not isinstance(text, str):
        raise FhirError(422, "statusReason needs its text", "Task.statusReason.text")
    try:
        return parse_status(sent.get("status")), text
    except Unprocessable as exc:
        raise FhirError(422, str(exc), exc.field) from exc


def _if_match(request: Request) -> int | None:
    value = request.headers.get("if-match")
    if value is None:
        return None
    digits = value.removeprefix("W/").strip('"')
    if not digits.isdigit():
        raise FhirError(400, 'If-Match must be a version tag such as W/"2"', "If-Match")
    return int(digits)


async def _move(
    request: Request,
    task_id: str,
    principal: Principal,
    runtime: Runtime,
    context: Context,
    change: referrals.Change,
) -> JSONResponse:
    version = _if_match(request)
    async with runtime.unit_of_work() as uow:
        try:
            body = await referrals.move_task(
                uow, principal, task_id, change, context.policies.get, version
            )
        except (NotFound, Conflict, Unprocessable) as exc:
            raise _error(exc) from exc
        await uow.commit()
    return fhir_response(body)


@router.put("/Task/{task_id}")
async def update_task(
    task_id: str, request: Request, principal: Who, runtime: Runtime, context: Context
) -> JSONResponse:
    sent = await _json(request)
    return await _move(
        request, task_id, principal, runtime, context, lambda cur: _wanted_change(cur, sent)
    )


@router.patch("/Task/{task_id}")
async def patch_task(
    task_id: str, request: Request, principal: Who, runtime: Runtime, context: Context
) -> JSONResponse:
    kind = request.headers.get("content-type", "").split(";")[0].strip()
    if kind != "application/json-patch+json":
        raise FhirError(415, "PATCH takes application/json-patch+json (RFC 6902)")
    patch = await _json(request)

    def change(current: dict[str, Any]) -> tuple[TaskStatus, str | None]:
        try:
            patched = apply(current, patch)
        except PatchTestFailed as exc:
            raise FhirError(412, str(exc)) from exc
        except PatchError as exc:
            raise FhirError(422, str(exc)) from exc
        return _wanted_change(current, patched)

    return await _move(request, task_id, principal, runtime, context, change)


def install(app: FastAPI) -> None:
    """Mount the FHIR routes; their errors (sign-in included) answer as OperationOutcome."""
    app.include_router(router)

    @app.exception_handler(FhirError)
    async def _outcome(_request: Request, exc: FhirError) -> JSONResponse:
        body = fhir.operation_outcome(exc.status, exc.text, exc.expression)
        headers = {"Cache-Control": "no-store"}
        if exc.status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        return JSONResponse(
            body, status_code=exc.status, media_type=fhir.FHIR_JSON, headers=headers
        )
