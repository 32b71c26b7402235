"""Every operation of every service, fuzzed from its own OpenAPI: no 5xx, every answer as declared.

Schemathesis reads each service's ``/openapi.json`` and generates requests from
it: the documented examples, boundary values of every field, then random valid
and invalid data. Each is sent in process (ASGI) to a running InProcessStack on
SQLite, authenticated as the test harness is (Twilio's webhooks signed as
Twilio signs), and each answer is checked: no server error, a status code the
operation declares, the declared content type and headers, a body that
validates against the declared schema, and input the schema forbids refused.

Every check the installed schemathesis has runs (what ``--checks all`` runs),
but two, each for a reason:

- ``positive_data_acceptance``: a domain API refuses schema-valid requests by
  design, e.g. a call for a jurisdiction with no policy, lat without lon, a
  unit id that does not exist, a call sign another unit has.
- ``ignored_auth``: it sends probe requests of its own, without credentials,
  over a transport of its own, which this in-process harness does not give it;
  that every route refuses a missing or wrong token, and every role it should,
  is what test_role_matrix.py proves route by route.

Every operation documents the ``X-Request-ID`` header, so it is fuzzed too:
any value must be accepted (replaced if odd), never a 5xx.

Bounded for reproducibility and time: derandomized (the same cases every run),
no deadline (the machine is shared), a fixed number of examples per operation;
the file runs in under a minute here.
"""

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.checks import CHECKS as REGISTERED_CHECKS
from schemathesis.checks import CheckFunction, load_all_checks
from schemathesis.specs.openapi.schemas import OpenApiSchema
from twilio.request_validator import RequestValidator

from services.cli.stack import Tansu
from services.dispatch.main import DispatchSettings
from services.dispatch.main import create_app as create_dispatch
from services.notify.main import NotifySettings
from services.notify.main import create_app as create_notify
from services.triage.main import TriageSettings
from services.triage.main import create_app as create_triage
from tests.support.databases import sqlite_target
from tests.support.inprocess import AUTH, DATA_KEYS, InProcessStack
from tests.support.stack_thread import StackThread

# Left out, with the reason in the module docstring; every other check runs, including
# any a newer schemathesis adds.
EXCLUDED_CHECKS = {"positive_data_acceptance", "ignored_auth"}
load_all_checks()
CHECKS: list[CheckFunction] = [
    check
    for check in REGISTERED_CHECKS.get_all()
    if not isinstance(check, type) and check.__name__ not in EXCLUDED_CHECKS
]

# Schemathesis's own strategies call `random`; that is theirs to change, not ours.
pytestmark = pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies")

TWILIO_TOKEN = "fuzz-twilio-auth-token"
PUBLIC = "https://notify.example.org"

FUZZ = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@pytest.fixture(scope="module")
def fuzzed_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackThread]:
    directory = tmp_path_factory.mktemp("fuzz")
    tansu = Tansu()
    tansu.start()
    try:
        # Notify checks webhook signatures (console SMS stays, so no SMS leaves).
        twilio = {"twilio_auth_token": TWILIO_TOKEN, "public_base_url": PUBLIC}
        stack = InProcessStack(
            tansu.bootstrap, sqlite_target(directory), directory, overrides={"notify": twilio}
        )
        with StackThread(stack) as running:
            yield running
    finally:
        tansu.stop()


def send_and_check(stack: StackThread, service: str, case: Case[Any]) -> None:
    # The harness's token, whatever the case generated for the security scheme:
    # auth itself is tested in test_bad_input_is_refused.
    request = case.as_transport_kwargs(base_url=f"http://{service}", headers=AUTH)
    if case.path.startswith("/twilio/") and isinstance(request.get("data"), dict):
        # Signed as Twilio signs, so the fuzzed form gets past the signature into the handler.
        form = {k: str(v) for k, v in request["data"].items()}
        signed = RequestValidator(TWILIO_TOKEN).compute_signature(PUBLIC + case.path, form)
        request["headers"]["X-Twilio-Signature"] = signed
    response = stack.request(service, **_as_httpx(request))
    case.validate_response(response, checks=CHECKS)


def _as_httpx(request: dict[str, Any]) -> dict[str, Any]:
    """Schemathesis serialises for ``requests``; httpx names a raw body ``content``."""
    converted = {k: v for k, v in request.items() if k not in ("data", "cookies")}
    data = request.get("data")
    if isinstance(data, str | bytes):
        converted["content"] = data
    elif data is not None:
        converted["data"] = data
    if request.get("cookies"):
        converted["cookies"] = request["cookies"]
    return converted


def _app(service: str) -> FastAPI:
    # Only its OpenAPI is read: nothing starts, nothing is stored.
    options: dict[str, Any] = {
        "data_dir": Path(tempfile.gettempdir()),
        "auth_secret": None,
        "data_keys": DATA_KEYS,
    }
    if service == "dispatch":
        return create_dispatch(DispatchSettings(**options))
    if service == "triage":
        return create_triage(TriageSettings(**options))
    return create_notify(NotifySettings(**options))


def _spec(service: str) -> OpenApiSchema:
    """The OpenAPI the service serves at /openapi.json, built from its code at collection.

    Schemathesis's fixture-based loader does not run under pytest 9 (it writes
    a private node attribute pytest no longer has), so the schema is known when
    the module is collected: FastAPI builds it from the routes without starting
    anything.
    """
    schema = schemathesis.openapi.from_dict(_app(service).openapi())
    # The harness's token is always sent (see send_and_check), so cases that
    # leave it out or mangle it would test nothing; auth has its own tests.
    schema.config.generation.update(with_security_parameters=False)
    return schema


# The live stream (GET /v1/stream) is an endless response that the in-process
# transport would wait on for ever; test_live_stream.py covers it over real HTTP.
dispatch = _spec("dispatch").exclude(path="/v1/stream")
triage = _spec("triage")
notify = _spec("notify")


@dispatch.parametrize()
@FUZZ
def test_dispatch_api(case: Case[Any], fuzzed_stack: StackThread) -> None:
    send_and_check(fuzzed_stack, "dispatch", case)


@triage.parametrize()
@FUZZ
def test_triage_api(case: Case[Any], fuzzed_stack: StackThread) -> None:
    send_and_check(fuzzed_stack, "triage", case)


@notify.parametrize()
@FUZZ
def test_notify_api(case: Case[Any], fuzzed_stack: StackThread) -> None:
    send_and_check(fuzzed_stack, "notify", case)
