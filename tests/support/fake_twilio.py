"""A local fake of the Twilio Messages REST API, for the real ``twilio`` client to talk to.

It answers ``POST /2010-04-01/Accounts/{sid}/Messages.json`` (form encoded, as
the client sends it) with Twilio's response shape, and refuses numbers set up
to fail with Twilio's error body (e.g. 21610 unsubscribed). For each message it
queues the status callbacks Twilio would make (``sent`` then ``delivered``, or
``undelivered`` with an error code for numbers set up so); ``deliver_callbacks``
posts them *signed* to notify, which in tests runs in process. ``signed_post``
sends any webhook (an inbound SMS) signed as Twilio signs it. The API runs
under uvicorn on a free loopback port, in a thread, so the blocking client
reaches it for real.
"""

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from twilio.request_validator import RequestValidator

from services.cli.stack import free_port

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "fake-auth-token-for-tests"


@dataclass
class FakeTwilio:
    refuse: dict[str, int] = field(default_factory=dict)  # To number -> error code at create
    undeliverable: dict[str, int] = field(default_factory=dict)  # To -> error in callback
    messages: list[dict[str, str]] = field(default_factory=list)
    callbacks: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    port: int = field(default_factory=free_port)
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def notify_settings(self, **extra: str) -> dict[str, str]:
        """notify's settings for its real ``twilio`` backend, pointed at this fake."""
        return {
            "sms_backend": "twilio",
            "twilio_account_sid": ACCOUNT_SID,
            "twilio_auth_token": AUTH_TOKEN,
            "twilio_from_number": "+17205550000",
            "twilio_api_base_url": self.base_url,
            **extra,
        }

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/2010-04-01/Accounts/{account}/Messages.json")
        async def create(account: str, request: Request) -> Response:
            form = {k: str(v) for k, v in (await request.form()).items()}
            to = form.get("To", "")
            if to in self.refuse:
                code = self.refuse[to]
                return JSONResponse(
                    {
                        "code": code,
                        "message": f"fake Twilio refuses {to} ({code})",
                        "more_info": f"https://www.twilio.com/docs/errors/{code}",
                        "status": 400,
                    },
                    status_code=400,
                )
            sid = "SM" + secrets.token_hex(16)
            self.messages.append({"sid": sid, **form})
            callback = form.get("StatusCallback")
            if callback:
                self.callbacks += [(callback, params) for params in self._statuses(sid, to)]
            return JSONResponse(_message_json(account, sid, form), status_code=201)

        @app.get("/2010-04-01/Accounts/{account}/Messages/{sid}.json")
        async def fetch(account: str, sid: str) -> Response:
            found = next((m for m in self.messages if m["sid"] == sid), None)
            if found is None:
                return JSONResponse(
                    {
                        "code": 20404,
                        "message": f"The requested resource {sid} was not found",
                        "more_info": "https://www.twilio.com/docs/errors/20404",
                        "status": 404,
                    },
                    status_code=404,
                )
            return JSONResponse(_message_json(account, sid, found))

        return app

    def _statuses(self, sid: str, to: str) -> list[dict[str, str]]:
        if to in self.undeliverable:
            return [
                {"MessageSid": sid, "MessageStatus": "sent", "To": to},
                {
                    "MessageSid": sid,
                    "MessageStatus": "undelivered",
                    "ErrorCode": str(self.undeliverable[to]),
                    "To": to,
                },
            ]
        return [{"MessageSid": sid, "MessageStatus": s, "To": to} for s in ("sent", "delivered")]

    async def deliver_callbacks(self, notify: httpx.AsyncClient) -> list[int]:
        """Post every queued status callback, signed, to the in-process notify."""
        pending, self.callbacks = self.callbacks, []
        codes = []
        for url, params in pending:
            response = await signed_post(
                url,
                params,
                client=notify,
                path=urlsplit(url).path,
                idempotency_token=f"{params['MessageSid']}-{params['MessageStatus']}",
            )
            codes.append(response.status_code)
        return codes

    def start(self) -> None:
        config = uvicorn.Config(self.app(), host="127.0.0.1", port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise TimeoutError("fake Twilio did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)


def _message_json(account: str, sid: str, form: dict[str, str]) -> dict[str, Any]:
    """The fields Twilio's Message resource answers with (the client reads these)."""
    return {
        "account_sid": account,
        "api_version": "2010-04-01",
        "body": form.get("Body", ""),
        "date_created": "Wed, 25 Nov 2026 12:00:00 +0000",
        "date_sent": None,
        "date_updated": "Wed, 25 Nov 2026 12:00:00 +0000",
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": form.get("From"),
        "messaging_service_sid": form.get("MessagingServiceSid"),
        "num_media": "0",
        "num_segments": "1",
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "status": "queued" if "MessagingServiceSid" not in form else "accepted",
        "subresource_uris": {"media": f"/2010-04-01/Accounts/{account}/Messages/{sid}/Media.json"},
        "to": form.get("To"),
        "uri": f"/2010-04-01/Accounts/{account}/Messages/{sid}.json",
    }


def signature(url: str, params: dict[str, str], token: str = AUTH_TOKEN) -> str:
    return str(RequestValidator(token).compute_signature(url, params))


async def signed_post(
    url: str,
    params: dict[str, str],
    *,
    token: str = AUTH_TOKEN,
    client: httpx.AsyncClient | None = None,
    path: str | None = None,
    idempotency_token: str | None = None,
) -> httpx.Response:
    """POST a form to ``url`` signed as Twilio signs it. With ``client`` (an in-process
    app), the request goes to ``path`` on it, still signed for the public ``url``.
    Twilio sends the same ``idempotency_token`` again when it retries a webhook."""
    headers = {"X-Twilio-Signature": signature(url, params, token)}
    if idempotency_token:
        headers["I-Twilio-Idempotency-Token"] = idempotency_token
    if client is not None:
        return await client.post(path or url, data=params, headers=headers)
    async with httpx.AsyncClient(timeout=10) as outbound:
        return await outbound.post(url, data=params, headers=headers)


if __name__ == "__main__":
    # A demo without a Twilio account: run this, then start notify with
    # CORESPOND_SMS_BACKEND=twilio, TWILIO_ACCOUNT_SID=<ACCOUNT_SID>,
    # TWILIO_AUTH_TOKEN=<AUTH_TOKEN>, TWILIO_FROM_NUMBER=+17205550000 and
    # CORESPOND_TWILIO_API_BASE_URL=<printed URL>. Messages are printed as they arrive.
    fake = FakeTwilio()
    fake.start()
    print(f"fake Twilio API at {fake.base_url} (account {ACCOUNT_SID}, token {AUTH_TOKEN})")
    seen = 0
    try:
        while True:
            time.sleep(0.5)
            for message in fake.messages[seen:]:
                print(f"SMS {message['sid']} to {message.get('To')}: {message.get('Body')}")
            seen = len(fake.messages)
    except KeyboardInterrupt:
        fake.stop()
